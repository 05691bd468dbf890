package main

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The basic checks of the ZIM contract for SendPeerMessage (reference
// §2.1, §3, §4); zimbridge checks every documented rule, this peer the
// ones a careful team would write first.
const (
	codeBadParam   = 660000002
	codeTooMany    = 660000011
	codeIDTooLong  = 660000012
	codeToSelf     = 660600030
	codeUnreadable = 900000001
)

var peerTypes = map[int]bool{1: true, 2: true, 10: true, 11: true, 12: true,
	13: true, 14: true, 200: true}

func idChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	for i := 0; i < len(idPunct); i++ {
		if idPunct[i] == c {
			return true
		}
	}
	return false
}

const idPunct = " !#$%&()+-:;<=.>?@[]^_{}|~"

func checkID(field, id string) (int64, error) {
	if id == "" {
		return codeBadParam, fmt.Errorf("%s: empty", field)
	}
	if len(id) > 32 {
		return codeIDTooLong, fmt.Errorf("%s: %d bytes, over 32", field, len(id))
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return codeBadParam, fmt.Errorf("%s: character %q not allowed", field, id[i])
		}
	}
	return 0, nil
}

type peerEvent struct {
	FromUserID  *string         `json:"FromUserId"`
	ToUserID    []string        `json:"ToUserId"`
	MessageType *int            `json:"MessageType"`
	Priority    *int            `json:"Priority"`
	MessageBody json.RawMessage `json:"MessageBody"`
}

func validate(value []byte) (int64, error) {
	var ev peerEvent
	if err := json.Unmarshal(value, &ev); err != nil {
		return codeUnreadable, fmt.Errorf("not a JSON object: %w", err)
	}
	if ev.FromUserID == nil {
		return codeBadParam, errors.New("FromUserId: missing")
	}
	if code, err := checkID("FromUserId", *ev.FromUserID); err != nil {
		return code, err
	}
	if len(ev.ToUserID) == 0 {
		return codeBadParam, errors.New("ToUserId: 1 to 100 recipients")
	}
	if len(ev.ToUserID) > 100 {
		return codeTooMany, fmt.Errorf("ToUserId: %d recipients, over 100", len(ev.ToUserID))
	}
	for i, to := range ev.ToUserID {
		if code, err := checkID(fmt.Sprintf("ToUserId[%d]", i), to); err != nil {
			return code, err
		}
		if to == *ev.FromUserID {
			return codeToSelf, errors.New("ToUserId: contains FromUserId")
		}
	}
	if ev.Priority == nil || *ev.Priority < 1 || *ev.Priority > 3 {
		return codeBadParam, errors.New("Priority: 1, 2 or 3")
	}
	if ev.MessageType == nil || !peerTypes[*ev.MessageType] {
		return codeBadParam, errors.New("MessageType: not one for one-to-one messages")
	}
	var body map[string]json.RawMessage
	if json.Unmarshal(ev.MessageBody, &body) != nil || body == nil {
		return codeBadParam, errors.New("MessageBody: missing or not an object")
	}
	return 0, nil
}
