// Command gopeer is zimbridge's strongest benchmark peer: the same Kafka to
// ZIM bridge as a competent Go team would write it, with franz-go and
// net/http. See README.md for what it does and does not do.
//
//	ZB_BOOTSTRAP=... ZB_ENDPOINT=... ZB_APP_ID=... ZB_SECRET_FILE=... gopeer
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type config struct {
	bootstrap, endpoint, secret    string
	appID                          uint32
	input, reply, dlq, group       string
	inflight, maxBuffered, retries int
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil || v <= 0 {
		log.Fatalf("%s: want a positive integer", name)
	}
	return v
}

func loadConfig() config {
	secret, err := os.ReadFile(env("ZB_SECRET_FILE", ""))
	if err != nil {
		log.Fatalf("ZB_SECRET_FILE: %v", err)
	}
	app, err := strconv.ParseUint(env("ZB_APP_ID", ""), 10, 32)
	if err != nil || app == 0 {
		log.Fatalf("ZB_APP_ID: want 1..4294967295")
	}
	return config{
		bootstrap:   env("ZB_BOOTSTRAP", "127.0.0.1:9092"),
		endpoint:    strings.TrimRight(env("ZB_ENDPOINT", ""), "/"),
		secret:      strings.TrimSpace(strings.SplitN(string(secret), "\n", 2)[0]),
		appID:       uint32(app),
		input:       env("ZB_TOPIC", "zim.peer"),
		reply:       env("ZB_REPLY", "zim.reply"),
		dlq:         env("ZB_DLQ", "zim.dlq"),
		group:       env("ZB_GROUP", "go-peer"),
		inflight:    envInt("ZB_INFLIGHT", 64),
		maxBuffered: envInt("ZB_MAX_BUFFERED", 10000),
		retries:     envInt("ZB_MAX_ATTEMPTS", 8),
	}
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	cfg := loadConfig()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	b := newBridge(cfg)
	client, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(cfg.bootstrap, ",")...),
		kgo.ConsumerGroup(cfg.group),
		kgo.ConsumeTopics(cfg.input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		// Revocation waits for our commit of what finished; polls do not
		// race a rebalance.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(b.onRevoked),
		kgo.OnPartitionsLost(b.onLost),
		// Tuned as a Go team would for throughput: bigger fetches, a short
		// linger so replies batch without adding latency.
		kgo.FetchMaxBytes(16<<20),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.ProducerLinger(time.Millisecond),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence is on by default
		kgo.MaxBufferedRecords(cfg.maxBuffered*2),
	)
	if err != nil {
		log.Fatalf("kafka client: %v", err)
	}
	b.client = client
	b.run(ctx)
	client.Close()
}
