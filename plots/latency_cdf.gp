# latency_cdf.gp - latency CDFs, one line per strategy, one panel per
# operation kind, log x. Set before loading (the generated scripts do):
#   out, title_text      output name (no extension), figure title
#   panels               space-separated operation kinds, e.g. "alloc free"
#   names_<kind>         space-separated strategy names with data for <kind>
#   colours_<kind>       their colours, in the same order
#   files_<kind>         their .hgrm files, in the same order
# Data: HdrHistogram percentile text (column 1 = microseconds, 2 = fraction),
# drawn through its percentile ladder (coarse below the median, fine in the tail).
if (!exists("width")) width = 1100
if (!exists("height")) height = 480
npanels = words(panels)
do for [fmt in "png svg"] {
    load "lib/style.gp"
    set multiplot layout 1, npanels title title_text noenhanced
    do for [p = 1:npanels] {
        kind = word(panels, p)
        files = value("files_".kind)
        names = value("names_".kind)
        colours = value("colours_".kind)
        set title kind noenhanced
        set logscale x
        set format x "10^{%L}"
        set xlabel "latency (µs, log scale)"
        set ylabel "operations at or below (%)"
        set yrange [0:100]
        set key inside right bottom
        plot for [i = 1:words(names)] word(files, i) skip 1 \
             using 1:($2 * 100) with lines lw 1.5 lc rgb word(colours, i) title word(names, i)
    }
    unset multiplot
}
