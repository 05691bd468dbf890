#!/usr/bin/env python3
"""The multilingual corpus (tests/data/multilingual.jsonl) as test traffic
for the shell tests (the image, the chart), and the check of what zimsim
received.

  corpus_events.py events PREFIX        key|value lines for kcat -K '|': one
                                         peer event per valid text, to the
                                         recipient PREFIX-<i>
  corpus_events.py check PREFIX FILE    FILE: zimsim's /_sim/messages; exit
                                         0 if each event's Message reached
                                         ZIM once, byte for byte; else say
                                         which did not
  corpus_events.py count                 how many events `events` makes
  corpus_events.py demo                  topic|key|value lines for
                                         ./scripts/demo: alice to bob, one
                                         per text, and one to team-1
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "data", "multilingual.jsonl")


def texts():
    out = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if "text" in o:
                out.append((o["name"], o["text"]))
    return out


def events(prefix):
    for i, (name, text) in enumerate(texts()):
        ev = {"FromUserId": "u1", "ToUserId": ["%s-%d" % (prefix, i)],
              "MessageType": 1, "Priority": 1,
              "MessageBody": {"Message": text, "ExtendedData": text}}
        value = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
        assert "|" not in name and "\n" not in value
        sys.stdout.write("%s-%s|%s\n" % (prefix, name, value))


def demo():
    for i, (name, text) in enumerate(texts()):
        ev = {"FromUserId": "alice", "ToUserId": ["bob"], "MessageType": 1,
              "Priority": 2, "MessageBody": {"Message": text}}
        if i % 7 == 3:  # some to the group, as a team chat would
            ev = {"FromUserId": "bob", "GroupId": "team-1", "MessageType": 1,
                  "Priority": 2, "MessageBody": {"Message": text}}
        topic, key = ("group", "team-1") if "GroupId" in ev else ("peer", "alice:bob")
        sys.stdout.write("%s|%s|%s\n" % (topic, key, json.dumps(
            ev, ensure_ascii=False, separators=(",", ":"))))


def check(prefix, path):
    want = {"%s-%d" % (prefix, i): (name, text)
            for i, (name, text) in enumerate(texts())}
    seen = {}
    with open(path, "rb") as f:
        for raw in f:
            line = json.loads(raw.decode("utf-8", errors="strict"))
            to = line.get("to")
            if to in want:
                seen.setdefault(to, []).append(line["body"])
    bad = []
    for to, (name, text) in sorted(want.items()):
        bodies = seen.get(to, [])
        if len(bodies) != 1:
            bad.append("%s: delivered %d times" % (name, len(bodies)))
            continue
        for field in ("Message", "ExtendedData"):
            got = bodies[0].get(field, "")
            if got.encode("utf-8") != text.encode("utf-8"):
                bad.append("%s: %s is %r, sent %r" % (name, field, got, text))
    for b in bad:
        print("corpus: " + b, file=sys.stderr)
    print("corpus: %d of %d texts reached ZIM once, byte for byte"
          % (len(want) - len(bad), len(want)))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "events":
        events(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 2 and sys.argv[1] == "count":
        print(len(texts()))
    elif len(sys.argv) == 2 and sys.argv[1] == "demo":
        demo()
    else:
        sys.exit(__doc__)
