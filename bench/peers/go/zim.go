package main

import (
	"bytes"
	"crypto/md5"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// zimClient makes signed SendPeerMessage calls over keep-alive
// connections, at most one per lane.
type zimClient struct {
	http     *http.Client
	endpoint string
	secret   string
	appID    uint32
}

func newZimClient(cfg config) *zimClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = cfg.inflight
	t.MaxIdleConnsPerHost = cfg.inflight
	t.MaxConnsPerHost = cfg.inflight
	return &zimClient{
		http:     &http.Client{Transport: t, Timeout: 10 * time.Second},
		endpoint: cfg.endpoint,
		secret:   cfg.secret,
		appID:    cfg.appID,
	}
}

// signedURL: md5(AppId + SignatureNonce + ServerSecret + Timestamp), a
// fresh nonce and timestamp for every attempt.
func (z *zimClient) signedURL(action string) string {
	var n [8]byte
	if _, err := crand.Read(n[:]); err != nil {
		panic(err)
	}
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	app := strconv.FormatUint(uint64(z.appID), 10)
	sum := md5.Sum([]byte(app + nonce + z.secret + ts))
	return fmt.Sprintf("%s/?Action=%s&AppId=%s&SignatureNonce=%s&Timestamp=%s"+
		"&SignatureVersion=2.0&Signature=%s", z.endpoint, action, app, nonce,
		ts, hex.EncodeToString(sum[:]))
}

type zimAnswer struct {
	Code      int64             `json:"Code"`
	Message   string            `json:"Message"`
	RequestID string            `json:"RequestId"`
	SuccList  []json.RawMessage `json:"SuccList"`
	ErrorList []json.RawMessage `json:"ErrorList"`
}

type outcome struct {
	reply      []byte
	failed     bool
	dlqHeaders []kgo.RecordHeader
}

type replyValue struct {
	Source struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
		Timestamp int64  `json:"timestamp"`
	} `json:"source"`
	Action    string            `json:"action"`
	Status    string            `json:"status"`
	Code      int64             `json:"code"`
	Message   string            `json:"message"`
	RequestID string            `json:"request_id"`
	SuccList  []json.RawMessage `json:"succ_list"`
	ErrorList []json.RawMessage `json:"error_list"`
	Attempts  int               `json:"attempts"`
	LatencyMs float64           `json:"latency_ms"`
	Error     string            `json:"error,omitempty"`
}

// post makes one attempt. retry: a transport error, HTTP 5xx/429, or a
// code ZIM marks transient (1 busy, 7 over the quota).
func (z *zimClient) post(body []byte) (ans zimAnswer, status int, retry bool, err error) {
	resp, err := z.http.Post(z.signedURL("SendPeerMessage"), "application/json",
		bytes.NewReader(body))
	if err != nil {
		return ans, 0, true, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ans, resp.StatusCode, true, err
	}
	if resp.StatusCode >= 500 || resp.StatusCode == 429 {
		return ans, resp.StatusCode, true, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if resp.StatusCode != 200 {
		return ans, resp.StatusCode, false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return ans, 200, true, fmt.Errorf("not ZIM's JSON: %w", err)
	}
	return ans, 200, ans.Code == 1 || ans.Code == 7, nil
}

// deliver validates r, calls ZIM with retries (full-jitter backoff), and
// builds the reply.
func (z *zimClient) deliver(r *kgo.Record, maxAttempts int) outcome {
	t0 := time.Now()
	var rv replyValue
	rv.Source.Topic, rv.Source.Partition, rv.Source.Offset = r.Topic, r.Partition, r.Offset
	rv.Source.Timestamp = r.Timestamp.UnixMilli()
	rv.Action = "SendPeerMessage"
	class := ""
	if code, err := validate(r.Value); err != nil {
		rv.Code, rv.Error, class = code, err.Error(), "validation"
	} else {
		for rv.Attempts < maxAttempts {
			rv.Attempts++
			ans, _, retry, err := z.post(r.Value)
			rv.Code, rv.Message, rv.RequestID = ans.Code, ans.Message, ans.RequestID
			rv.SuccList, rv.ErrorList = ans.SuccList, ans.ErrorList
			if err != nil {
				rv.Code, rv.Error = 900000010, err.Error()
			}
			if !retry {
				break
			}
			if rv.Attempts < maxAttempts {
				time.Sleep(backoff(rv.Attempts))
			}
		}
		switch {
		case rv.Error == "" && rv.Code == 0 && len(rv.ErrorList) > 0:
			class = "partial"
		case rv.Error != "" || rv.Code != 0:
			class = "api"
		}
	}
	rv.Status = map[string]string{"": "sent", "partial": "partial"}[class]
	if rv.Status == "" {
		rv.Status = "failed"
	}
	rv.LatencyMs = float64(time.Since(t0).Microseconds()) / 1000
	reply, _ := json.Marshal(rv)
	out := outcome{reply: reply, failed: class != ""}
	if out.failed {
		out.dlqHeaders = []kgo.RecordHeader{
			{Key: "zim.failure.class", Value: []byte(class)},
			{Key: "zim.error.code", Value: []byte(strconv.FormatInt(rv.Code, 10))},
			{Key: "zim.source.topic", Value: []byte(r.Topic)},
		}
	}
	return out
}

// backoff: full jitter in [100 ms, min(10 s, 100 ms * 2^n)].
func backoff(n int) time.Duration {
	hi := 100 * time.Millisecond << min(n, 7)
	if hi > 10*time.Second {
		hi = 10 * time.Second
	}
	return 100*time.Millisecond + time.Duration(rand.Int64N(int64(hi-100*time.Millisecond)+1))
}
