# Cluster tests (label cluster; issue 18): several PostgreSQL clusters, carefactd
# instances and the tools/ scripts that tie them together, on this machine. They run
# once, in the plain build's pass of tools/check: tests/CMakeLists.txt leaves them out
# of the sanitizer build, whose binaries they would only slow down.
if(NOT TARGET carefactd OR NOT TARGET carefact-loadgen)
  return()
endif()

# The federal layer: two regions and a federal database by logical replication
# (tools/federal); the federal figures equal the regions' and hold no personal data.
cf_add_test(NAME cluster.federal.sums LABEL cluster TIMEOUT 600
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cluster/federal.sh)
