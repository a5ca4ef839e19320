# invalidation_tradeoff.gp - what deferred invalidation buys and costs:
# throughput against the 99th percentile of the vulnerability window (how
# long a device could still reach an unmapped page), one point per policy
# and queue configuration, one series per strategy.
#   out, title_text, names, colours   as in latency_cdf.gp
#   data    one block per strategy; columns: window p99 (µs), median
#           operations/s, label (policy and queue)
#   yscale, yunit  divide rates by yscale, e.g. 1e6 and "million operations/s"
if (!exists("width")) width = 1000
if (!exists("height")) height = 560
if (!exists("yscale")) { yscale = 1e6; yunit = "million operations/s" }
do for [fmt in "png svg"] {
    load "lib/style.gp"
    set title title_text
    set logscale x
    set format x "10^{%L}"
    set xlabel "vulnerability window, 99th percentile (µs, log scale)"
    set ylabel "throughput (".yunit.")"
    set yrange [0:*]
    set offsets graph 0.05, graph 0.15, graph 0.1, 0
    plot for [i = 1:words(names)] data index (i - 1) using 1:($2 / yscale) \
             with points pt 7 ps 1.2 lc rgb word(colours, i) title word(names, i), \
         for [i = 1:words(names)] data index (i - 1) using 1:($2 / yscale):3 \
             with labels offset char 0.8, char 0.6 left font ",8" noenhanced notitle
}
