# style.gp - what every iovabench plot shares. Loaded by the other scripts;
# set `fmt` to "png" or "svg" and `out` to the file name without extension.
reset
if (fmt eq "png") {
    set terminal pngcairo size width,height enhanced font "Sans,10" linewidth 1.5
} else {
    set terminal svg size width,height dynamic enhanced font "Sans,10" linewidth 1.5 background rgb "white"
}
set output out.".".fmt
set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 0.6
set border lc rgb "#444444"
set key outside right top vertical noenhanced box lc rgb "#bbbbbb"
set tics nomirror
set title noenhanced
