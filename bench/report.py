"""Summarises scripts/bench's raw runs: medians and spread per contender,
ratios against the baselines measured in the same run, a Markdown table on
stdout, the JSON result file, and a PNG chart drawn with gnuplot.

usage: report.py RAW.jsonl OUT.json CHART.png CORES KAFKA RDKAFKA CURL"""
import json
import statistics
import subprocess
import sys

raw_path, out_path, png, cores, kafka, rdkafka, curl = sys.argv[1:8]
runs = [json.loads(l) for l in open(raw_path) if l.strip()]


def summary(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "runs": len(values)}


by = {}
for r in runs:
    by.setdefault((r["scenario"], r["contender"]), []).append(r)

result = {"cores": int(cores), "versions": {"kafka": kafka, "librdkafka": rdkafka,
                                            "libcurl": curl},
          "runs": runs, "summary": {}, "ratios": {}}
rows = []
for (scen, who), rs in sorted(by.items()):
    s = {}
    for k in ("events_per_s", "steady_events_per_s"):
        if k in rs[0]:
            s[k] = summary([r[k] for r in rs])
    for k in ("cpu_s_per_1k", "peak_rss_mib"):
        if k in rs[0]:
            s[k] = summary([r[k] for r in rs])
    if scen == "latency":
        for k in ("to_zimsim", "to_reply"):
            s[k + "_p99_ms"] = summary([r[k]["p99_ms"] for r in rs])
            s[k + "_p50_ms"] = summary([r[k]["p50_ms"] for r in rs])
            s[k + "_p999_ms"] = summary([r[k]["p999_ms"] for r in rs])
    if scen == "quota":
        for a in rs[0]["actions"]:
            s[a + "_ratio"] = summary([r["actions"][a]["ratio"] for r in rs])
            s[a + "_rejected"] = sum(r["actions"][a]["rejected"] for r in rs)
    if scen == "fanout":
        s["messages_per_s"] = summary([r["messages_per_s"] for r in rs])
        s["peak_calls_per_s"] = max(r["peak_calls_per_s"] for r in rs)
        s["throttled"] = sum(r["throttled"] for r in rs)
    if scen == "crash":
        s["dups_per_kill"] = summary([r["zimsim"]["dups"] / r["kills"] for r in rs])
        s["inflight_at_kill"] = summary([x for r in rs for x in r["inflight_at_kill"]])
        s["missing"] = sum(r["events"] - r["zimsim"]["distinct"] for r in rs)
    if scen == "instructions":
        s["instructions_per_event"] = summary([r["instructions_per_event"] for r in rs])
    if scen in ("memory", "latency") and "peak_rss_mib" in rs[0]:
        s["peak_rss_mib"] = summary([r["peak_rss_mib"] for r in rs])
    result["summary"][scen + "/" + who] = s


def med(key, metric="events_per_s"):
    v = result["summary"].get(key, {}).get(metric)
    return v["median"] if v else None


zb = med("throughput/zimbridge")
for base in ("ceiling/libcurl-multi", "ceiling/wrk+lua", "throughput/go",
             "throughput/python", "throughput/baseline"):
    if zb and med(base):
        result["ratios"]["zimbridge/" + base] = round(zb / med(base), 3)
zs = med("throughput/zimbridge", "steady_events_per_s")
for base, metric in (("ceiling/libcurl-multi", "events_per_s"),
                     ("throughput/go", "steady_events_per_s"),
                     ("throughput/python", "steady_events_per_s"),
                     ("throughput/baseline", "steady_events_per_s")):
    if zs and med(base, metric):
        result["ratios"]["zimbridge steady/" + base] = round(zs / med(base, metric), 3)
fp, fn = med("fanout/zimbridge", "messages_per_s"), med("fanout/zimbridge-nopack", "messages_per_s")
if fp and fn:
    result["ratios"]["fanout messages/s, packing/no packing"] = round(fp / fn, 1)
ia = med("instructions/zimbridge", "instructions_per_event")
ib = med("instructions/baseline", "instructions_per_event")
if ia and ib:
    result["ratios"]["instructions per event, zimbridge/baseline"] = round(ia / ib, 3)
lp, ln = med("latency/zimbridge", "to_reply_p99_ms"), med("latency/zimbridge-nopack", "to_reply_p99_ms")
if lp and ln:
    result["ratios"]["latency p99, packing/no packing"] = round(lp / ln, 3)
# Against the Go peer, the goal: >= 1.5x its events/s at <= 0.5x its CPU
# per event and RSS, and its latency.
for scen, metric in (("throughput", "cpu_s_per_1k"),
                     ("throughput", "peak_rss_mib"),
                     ("memory", "peak_rss_mib"),
                     ("latency", "to_zimsim_p99_ms"),
                     ("latency", "to_reply_p99_ms")):
    a, b = med(scen + "/zimbridge", metric), med(scen + "/go", metric)
    if a is not None and b:
        result["ratios"]["zimbridge/go %s %s" % (scen, metric)] = round(a / b, 3)
json.dump(result, open(out_path, "w"), indent=1)

print("| contender | events/s (median, min-max) | steady events/s | CPU s / 1k events | peak RSS MiB | p99 ms |")
print("|---|---|---|---|---|---|")
for key, s in sorted(result["summary"].items()):
    e = s.get("events_per_s")
    c = s.get("cpu_s_per_1k")
    m = s.get("peak_rss_mib")
    p = s.get("to_reply_p99_ms")
    st = s.get("steady_events_per_s")
    print("| %s | %s | %s | %s | %s | %s |" % (
        key,
        "%.0f (%.0f-%.0f)" % (e["median"], e["min"], e["max"]) if e else "",
        "%.0f" % st["median"] if st else "",
        "%.3f" % c["median"] if c else "",
        "%.1f" % m["median"] if m else "",
        "%.2f (to zimsim %.2f)" % (p["median"], s["to_zimsim_p99_ms"]["median"]) if p else ""))
    if "messages_per_s" in s:
        print("|  messages/s at the quota | %.0f (peak %d calls/s, %d throttled) | | | | |" % (
            s["messages_per_s"]["median"], s["peak_calls_per_s"], s["throttled"]))
    if "instructions_per_event" in s:
        v = s["instructions_per_event"]
        print("|  instructions per event | %.0f (%.0f-%.0f) | | | | |" % (
            v["median"], v["min"], v["max"]))
    if "dups_per_kill" in s:
        print("|  duplicates per kill -9 | %.1f (calls in flight at the kill: median %.0f, max %.0f), lost %d | | | | |" % (
            s["dups_per_kill"]["median"], s["inflight_at_kill"]["median"],
            s["inflight_at_kill"]["max"], s["missing"]))
    for k, v in s.items():
        if k.endswith("_ratio"):
            print("|  %s | quota use %.3f of the limit, %d rejected | | | | |" % (
                k[:-6], v["median"], s[k[:-6] + "_rejected"]))
for k, v in result["ratios"].items():
    print("ratio %s = %.3f" % (k, v))

bars = [(k, v["events_per_s"]) for k, v in sorted(result["summary"].items())
        if "events_per_s" in v]
if bars:
    data = "\n".join('"%s" %f %f %f' % (k.split("/")[1] + " (" + k.split("/")[0] + ")",
                                         v["median"], v["min"], v["max"])
                     for k, v in bars)
    script = f"""set terminal pngcairo size 900,500 noenhanced
set output "{png}"
set title "events/s (median of runs, min-max) on {cores} cores"
set style data histogram
set style fill solid 0.6
set boxwidth 0.6
set yrange [0:*]
set xrange [-0.6:{len(bars) - 0.4}]
set grid ytics
set xtics rotate by -20
set bmargin 6
plot '-' using 0:2:3:4:(0.6):xtic(1) with boxerrorbars notitle lc rgb "#3366aa"
{data}
e
"""
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("no chart:", e, file=sys.stderr)

# The latency percentiles of each contender (median of runs), produce ->
# zimsim and produce -> reply: bench/results/<date>-latency-percentiles.png
lat = {k: v for k, v in sorted(result["summary"].items()) if k.startswith("latency/")}
if lat:
    pct = (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("p999_ms", 99.9),
           ("p9999_ms", 99.99))
    blocks, titles = [], []
    for key in lat:
        rs = by[("latency", key.split("/")[1])]
        for path in ("to_zimsim", "to_reply"):
            pts = []
            for name, p in pct:
                vals = [r[path][name] for r in rs if name in r[path]]
                if vals:
                    pts.append("%g %g" % (p, statistics.median(vals)))
            if pts:
                blocks.append("\n".join(pts) + "\ne")
                titles.append("%s %s" % (key.split("/")[1], path.replace("_", " ")))
    out_png = out_path[:-5] + "-percentiles.png"
    plots = ", ".join("'-' using (-log10(1-$1/100)):2 with linespoints title '%s'" % t
                      for t in titles)
    script = f"""set terminal pngcairo size 900,500 noenhanced
set output "{out_png}"
set title "latency at 2,000 events/s (median of runs) on {cores} cores"
set xlabel "percentile"
set ylabel "ms"
set logscale y
set grid
set xtics ("p50" -log10(0.5), "p90" 1, "p99" 2, "p99.9" 3, "p99.99" 4)
set key top left
plot {plots}
""" + "\n".join(blocks) + "\n"
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("no percentile plot:", e, file=sys.stderr)
