# shellcheck shell=bash
# cf_pick_port: print a TCP port for a loopback test server. It is drawn below the
# kernel's ephemeral range (ip_local_port_range), so no outgoing connection of a
# parallel test can take it, and a server restarted on the same port (a terminal
# keeps its server's URL) finds it free again. A port something already listens on
# is skipped; callers still retry on a bind failure (another test may win a race).
cf_pick_port() {
    local low=32768 p
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 11000 ] || low=32768
    for _ in $(seq 50); do
        p=$((10000 + RANDOM % (low - 10000)))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    echo "$p"
}
