package main

import (
	"context"
	"hash/fnv"
	"log"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// bridge wires the pieces: a poll loop feeds keyed lanes (one goroutine
// each, so a key's records stay in order and at most `inflight` calls run),
// each outcome is produced, and offsets are committed once every record
// below them has its outcome acknowledged by Kafka.
type bridge struct {
	cfg    config
	client *kgo.Client
	zim    *zimClient
	lanes  []chan *kgo.Record
	slots  chan struct{} // records buffered: poll waits when empty
	offs   *tracker
	work   sync.WaitGroup // records taken and not yet acknowledged
}

func newBridge(cfg config) *bridge {
	b := &bridge{
		cfg:   cfg,
		zim:   newZimClient(cfg),
		lanes: make([]chan *kgo.Record, cfg.inflight),
		slots: make(chan struct{}, cfg.maxBuffered),
		offs:  newTracker(),
	}
	for i := range b.lanes {
		b.lanes[i] = make(chan *kgo.Record, 256)
	}
	for i := 0; i < cfg.maxBuffered; i++ {
		b.slots <- struct{}{}
	}
	return b
}

func (b *bridge) run(ctx context.Context) {
	var lanes sync.WaitGroup
	for _, ch := range b.lanes {
		lanes.Add(1)
		go func(ch chan *kgo.Record) {
			defer lanes.Done()
			for r := range ch {
				if ctx.Err() != nil {
					// Stopping: what is buffered and not started is
					// left uncommitted for the next owner, so a stop
					// waits only for the calls in flight.
					b.slots <- struct{}{}
					b.work.Done()
					continue
				}
				b.handle(r)
			}
		}(ch)
	}
	commitDone := make(chan struct{})
	go b.commitLoop(ctx, commitDone)
	b.pollLoop(ctx)
	for _, ch := range b.lanes {
		close(ch)
	}
	lanes.Wait()
	b.work.Wait()
	if err := b.client.Flush(context.Background()); err != nil {
		log.Printf("flush: %v", err)
	}
	<-commitDone
	b.commit(context.Background())
}

func (b *bridge) pollLoop(ctx context.Context) {
	for ctx.Err() == nil {
		// Back-pressure: poll only for as many records as there is room.
		n := b.freeSlots(ctx)
		if n == 0 {
			continue
		}
		fs := b.client.PollRecords(ctx, n)
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if ctx.Err() == nil {
				log.Printf("fetch %s[%d]: %v", t, p, err)
			}
		})
		got := 0
		fs.EachRecord(func(r *kgo.Record) {
			got++
			b.offs.track(r)
			b.work.Add(1)
			b.lanes[laneOf(r, len(b.lanes))] <- r
		})
		for i := got; i < n; i++ {
			b.slots <- struct{}{} // give back what was not used
		}
		b.client.AllowRebalance()
	}
}

// freeSlots takes every free slot (at least one, waiting for it).
func (b *bridge) freeSlots(ctx context.Context) int {
	select {
	case <-b.slots:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < b.cfg.maxBuffered {
		select {
		case <-b.slots:
			n++
		default:
			return n
		}
	}
	return n
}

// laneOf keeps a key's records on one lane; keyless records spread by
// partition, which orders them per partition.
func laneOf(r *kgo.Record, n int) int {
	h := fnv.New32a()
	if len(r.Key) > 0 {
		h.Write(r.Key)
	} else {
		h.Write([]byte(r.Topic))
		h.Write([]byte{byte(r.Partition >> 8), byte(r.Partition)})
	}
	return int(h.Sum32() % uint32(n))
}

func (b *bridge) handle(r *kgo.Record) {
	out := b.zim.deliver(r, b.cfg.retries)
	recs := []*kgo.Record{{Topic: b.cfg.reply, Key: r.Key, Value: out.reply}}
	if out.failed {
		recs = append(recs, &kgo.Record{Topic: b.cfg.dlq, Key: r.Key,
			Value: r.Value, Headers: out.dlqHeaders})
	}
	var pending sync.WaitGroup
	pending.Add(len(recs))
	var mu sync.Mutex
	var failed error
	for _, rec := range recs {
		b.client.Produce(context.Background(), rec, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
			pending.Done()
		})
	}
	// The lane moves on; the record counts as done once both outcomes are
	// acknowledged (idempotent producer, acks=all).
	go func() {
		pending.Wait()
		if failed != nil {
			// Not committed: its partition's next owner (or our restart)
			// sends it again. At least once.
			log.Printf("produce outcome of %s[%d]@%d: %v", r.Topic, r.Partition, r.Offset, failed)
		} else {
			b.offs.done(r)
		}
		b.slots <- struct{}{}
		b.work.Done()
	}()
}

func (b *bridge) commitLoop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.commit(ctx)
		}
	}
}

func (b *bridge) commit(ctx context.Context) {
	offsets := b.offs.committable()
	if len(offsets) == 0 {
		return
	}
	b.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			log.Printf("commit: %v", err)
			return
		}
		b.offs.committed(offsets)
	})
}

// onRevoked commits what finished before the partitions change owner;
// what did not finish is sent again by their next owner.
func (b *bridge) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	b.commit(ctx)
	b.offs.forget(revoked)
}

func (b *bridge) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	b.offs.forget(lost)
}
