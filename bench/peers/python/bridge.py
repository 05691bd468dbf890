"""The Kafka -> ZIM bridge a team would write in an afternoon: a benchmark
peer for zimbridge. confluent-kafka consumer, a thread pool sized like
zimbridge's in-flight window, requests with a session per thread (keep-
alive), the same md5 signature, one reply record per event, and a commit
after each batch's results are produced (at least once).

    ZB_BOOTSTRAP=... ZB_ENDPOINT=... ZB_APP_ID=... ZB_SECRET_FILE=... \
        python3 bridge.py
"""
import hashlib
import json
import os
import secrets
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from confluent_kafka import Consumer, Producer

BOOT = os.environ["ZB_BOOTSTRAP"]
ENDPOINT = os.environ["ZB_ENDPOINT"].rstrip("/")
APP_ID = os.environ["ZB_APP_ID"]
SECRET = open(os.environ["ZB_SECRET_FILE"]).read().strip()
INPUT = os.environ.get("ZB_TOPIC", "zim.peer")
REPLY = os.environ.get("ZB_REPLY", "zim.reply")
DLQ = os.environ.get("ZB_DLQ", "zim.dlq")
WINDOW = int(os.environ.get("ZB_INFLIGHT", "64"))

local = threading.local()
running = True


def session():
    if not hasattr(local, "s"):
        local.s = requests.Session()
    return local.s


def signed_url(action):
    nonce = secrets.token_hex(8)
    ts = str(int(time.time()))
    sig = hashlib.md5((APP_ID + nonce + SECRET + ts).encode()).hexdigest()
    return (f"{ENDPOINT}/?Action={action}&AppId={APP_ID}&SignatureNonce={nonce}"
            f"&Timestamp={ts}&SignatureVersion=2.0&Signature={sig}")


def handle(msg):
    t0 = time.time()
    try:
        json.loads(msg.value())
        for attempt in range(5):
            r = session().post(signed_url("SendPeerMessage"), data=msg.value(),
                               headers={"Content-Type": "application/json"},
                               timeout=10)
            res = r.json()
            if r.status_code == 200 and res.get("Code") not in (1, 7):
                break
            time.sleep(0.1 * 2 ** attempt)
        status = "sent" if res.get("Code") == 0 else "failed"
    except Exception as e:  # noqa: BLE001 - a bridge must not die on one event
        res, status = {"Code": -1, "Message": str(e)}, "failed"
    reply = {"source": {"topic": msg.topic(), "partition": msg.partition(),
                        "offset": msg.offset(), "timestamp": msg.timestamp()[1]},
             "status": status, "code": res.get("Code"), "message": res.get("Message"),
             "latency_ms": (time.time() - t0) * 1000}
    return msg, status, json.dumps(reply)


def main():
    def stop(*_):
        global running
        running = False
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    consumer = Consumer({"bootstrap.servers": BOOT, "group.id": "python-peer",
                         "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    producer = Producer({"bootstrap.servers": BOOT, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5})
    consumer.subscribe([INPUT])
    with ThreadPoolExecutor(max_workers=WINDOW) as pool:
        while running:
            msgs = [m for m in consumer.consume(num_messages=WINDOW, timeout=0.1)
                    if not m.error()]
            if not msgs:
                continue
            for msg, status, reply in pool.map(handle, msgs):
                producer.produce(REPLY, key=msg.key(), value=reply)
                if status != "sent":
                    producer.produce(DLQ, key=msg.key(), value=msg.value())
            producer.flush()
            consumer.commit(asynchronous=False)
    consumer.close()


if __name__ == "__main__":
    main()
