package main

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tracker knows, per partition, which records finished (their outcomes
// acknowledged) and so what may be committed: the lowest offset not yet
// finished. Records of a partition finish out of order across lanes.
type tracker struct {
	mu    sync.Mutex
	parts map[string]map[int32]*partTrack
}

type partTrack struct {
	queue []int64 // offsets taken, oldest first, from the lowest unfinished
	done  map[int64]bool
	epoch int32
	next  int64 // the offset to commit; -1: nothing yet
	sent  int64 // the last offset committed
}

func newTracker() *tracker {
	return &tracker{parts: map[string]map[int32]*partTrack{}}
}

func (t *tracker) part(topic string, p int32) *partTrack {
	ps := t.parts[topic]
	if ps == nil {
		ps = map[int32]*partTrack{}
		t.parts[topic] = ps
	}
	pt := ps[p]
	if pt == nil {
		pt = &partTrack{done: map[int64]bool{}, next: -1, sent: -1}
		ps[p] = pt
	}
	return pt
}

func (t *tracker) track(r *kgo.Record) {
	t.mu.Lock()
	pt := t.part(r.Topic, r.Partition)
	pt.queue = append(pt.queue, r.Offset)
	pt.epoch = r.LeaderEpoch
	t.mu.Unlock()
}

func (t *tracker) done(r *kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ps := t.parts[r.Topic]
	if ps == nil || ps[r.Partition] == nil {
		return // revoked meanwhile: its next owner redoes it
	}
	pt := ps[r.Partition]
	pt.done[r.Offset] = true
	for len(pt.queue) > 0 && pt.done[pt.queue[0]] {
		delete(pt.done, pt.queue[0])
		pt.next = pt.queue[0] + 1
		pt.queue = pt.queue[1:]
	}
}

// committable: the offsets that moved since the last commit.
func (t *tracker) committable() map[string]map[int32]kgo.EpochOffset {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]map[int32]kgo.EpochOffset{}
	for topic, ps := range t.parts {
		for p, pt := range ps {
			if pt.next < 0 || pt.next == pt.sent {
				continue
			}
			if out[topic] == nil {
				out[topic] = map[int32]kgo.EpochOffset{}
			}
			out[topic][p] = kgo.EpochOffset{Epoch: pt.epoch, Offset: pt.next}
		}
	}
	return out
}

func (t *tracker) committed(offsets map[string]map[int32]kgo.EpochOffset) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range offsets {
		for p, eo := range ps {
			if pt := t.parts[topic][p]; pt != nil && eo.Offset > pt.sent {
				pt.sent = eo.Offset
			}
		}
	}
}

func (t *tracker) forget(parts map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range parts {
		for _, p := range ps {
			delete(t.parts[topic], p)
		}
	}
}
