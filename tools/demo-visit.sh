# Sourced by tools/demo: the demo data and the visit it plays. Each step runs only
# what exists in this version of carefact and says plainly what it skipped.

demo_load_data() {
    if "$carefactd" help 2>/dev/null | grep -q demo-data; then
        "$carefactd" demo-data --db "$db"
    else
        echo "demo data: not available in this version"
    fi
}

demo_play_visit() {
    local agent=build/demo/agent/carefact-agent
    if [ ! -x "$agent" ]; then
        echo "agent: not built in this version, so no visit is played"
        return 0
    fi
    echo "agent: visit flow not available in this version"
}
