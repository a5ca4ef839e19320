# fragmentation_time.gp - fragmentation over time, one line per strategy:
# the largest free extent (MiB, log scale) and Linux's unusable free space
# index for one order. Reads the runs' time-series CSVs directly.
#   out, title_text, names, colours   as in latency_cdf.gp
#   files        space-separated CSV files (timeseries/<job>.csv), one per strategy
#   rep          the repetition to draw (column 1)
#   col_t, col_largest, col_unusable   column numbers in those files
#   unusable_label                    e.g. "unusable free space index, order 9 (2 MiB)"
if (!exists("width")) width = 1100
if (!exists("height")) height = 480
do for [fmt in "png svg"] {
    load "lib/style.gp"
    set datafile separator ","
    set multiplot layout 1, 2 title title_text noenhanced
    set xlabel "time since the repetition's measurement started (s)"
    set title "largest free extent"
    set ylabel "MiB (log scale)"
    set logscale y
    set key inside right top
    plot for [i = 1:words(names)] word(files, i) skip 1 \
         using (column(1) == rep ? column(col_t) : NaN):(column(col_largest) / 1048576.0) \
         with linespoints lw 1.5 pt 7 ps 0.5 lc rgb word(colours, i) title word(names, i)
    unset logscale y
    set title unusable_label noenhanced
    set ylabel "index (0: all free space usable, 1: none)"
    set yrange [0:1.05]
    plot for [i = 1:words(names)] word(files, i) skip 1 \
         using (column(1) == rep ? column(col_t) : NaN):(column(col_unusable)) \
         with linespoints lw 1.5 pt 7 ps 0.5 lc rgb word(colours, i) title word(names, i)
    unset multiplot
}
