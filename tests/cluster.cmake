# Cluster tests (label cluster; issue 18): several PostgreSQL clusters, carefactd
# instances and the tools/ scripts that tie them together, on this machine. They run
# once, in the plain build's pass of tools/check: tests/CMakeLists.txt leaves them out
# of the sanitizer build, whose binaries they would only slow down (a sanitizer build
# adds nothing to drills of other programs: nginx, Patroni, PostgreSQL). One at a time
# (RESOURCE_LOCK cf_cluster): each brings up several daemons on a 2-core machine.
if(NOT TARGET carefactd OR NOT TARGET carefact-loadgen)
  return()
endif()

# The federal layer: two regions and a federal database by logical replication
# (tools/federal); the federal figures equal the regions' and hold no personal data.
cf_add_test(NAME cluster.federal.sums LABEL cluster TIMEOUT 600
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cluster/federal.sh)
set_tests_properties(cluster.federal.sums PROPERTIES RESOURCE_LOCK cf_cluster)

# The production topology of tools/cluster (nginx, two carefactd, Patroni + etcd,
# pgBackRest) brought up in a temporary folder per drill: failover, point-in-time
# restore, slow clients through nginx.
if(NOT TARGET ag_core OR NOT TARGET pn532-sim)
  return()
endif()
foreach(drill IN ITEMS failover pitr slow_clients)
  cf_add_test(NAME cluster.${drill} LABEL cluster TIMEOUT 900
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cluster/${drill}.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(cluster.${drill} PROPERTIES RESOURCE_LOCK cf_cluster)
endforeach()
