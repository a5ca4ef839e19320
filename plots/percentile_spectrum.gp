# percentile_spectrum.gp - HdrHistogram-style percentile spectrum: x is
# 1/(1-percentile) on a log scale (so 90%, 99%, 99.9% ... are evenly
# spaced), y the latency. Same variables as latency_cdf.gp.
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
        set logscale y
        set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000, "99.9999%%" 1000000)
        set xlabel "percentile"
        set ylabel "latency (µs, log scale)"
        set key inside left top
        plot for [i = 1:words(names)] word(files, i) skip 1 \
             using 4:1 with lines lw 1.5 lc rgb word(colours, i) title word(names, i)
    }
    unset multiplot
}
