# throughput_threads.gp - throughput versus worker threads, one line per
# strategy (median over repetitions, bars from the slowest to the fastest).
#   out, title_text, names, colours   as in latency_cdf.gp
#   data    a file with one block per strategy (in the order of names),
#           blocks separated by two blank lines; columns: threads, median,
#           min, max (operations per second)
#   yscale, yunit  divide rates by yscale, e.g. 1e6 and "million operations/s"
if (!exists("width")) width = 900
if (!exists("height")) height = 520
if (!exists("yscale")) { yscale = 1e6; yunit = "million operations/s" }
do for [fmt in "png svg"] {
    load "lib/style.gp"
    set title title_text
    set xlabel "worker threads"
    set ylabel "throughput (".yunit.")"
    set xtics 1
    set xrange [0.5:*]
    set yrange [0:*]
    plot for [i = 1:words(names)] data index (i - 1) using 1:($2 / yscale):($3 / yscale):($4 / yscale) \
             with yerrorlines lw 1.5 pt 7 ps 0.8 lc rgb word(colours, i) title word(names, i)
}
