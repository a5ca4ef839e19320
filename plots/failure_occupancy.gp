# failure_occupancy.gp - on the fragmenter workload: the share of
# allocation requests refused against the occupancy the workload asks for
# (its peak live bytes over the domain's size), one line per strategy.
#   out, title_text, names, colours   as in latency_cdf.gp
#   data    one block per strategy; columns: occupancy (0..1), fraction refused of
#           the largest requests (the ones fragmentation hurts), of all requests
#   ylabel_text  what column 2 is
if (!exists("width")) width = 900
if (!exists("height")) height = 520
if (!exists("ylabel_text")) ylabel_text = "largest requests refused (%)"
do for [fmt in "png svg"] {
    load "lib/style.gp"
    set title title_text
    set xlabel "occupancy: peak live bytes / domain size (%)"
    set ylabel ylabel_text
    set yrange [0:105]
    set xrange [*:*]
    plot for [i = 1:words(names)] data index (i - 1) using ($1 * 100):($2 * 100) \
             with linespoints lw 1.5 pt 7 ps 0.9 lc rgb word(colours, i) title word(names, i)
}
