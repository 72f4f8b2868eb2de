# Cluster drills (label cluster): the production topology of tools/cluster (nginx, two
# carefactd, Patroni + etcd, pgBackRest) brought up in a temporary folder per test. Run
# once, in the plain build: a sanitizer build adds nothing to drills of other programs
# (nginx, Patroni, PostgreSQL) and would only slow them. One at a time (RESOURCE_LOCK):
# each brings up five daemons and two PostgreSQL servers on a 2-core machine.
if(CF_SANITIZE OR NOT TARGET carefactd OR NOT TARGET carefact-loadgen OR NOT TARGET ag_core
   OR NOT TARGET pn532-sim)
  return()
endif()
foreach(drill IN ITEMS failover pitr slow_clients)
  cf_add_test(NAME cluster.${drill} LABEL cluster TIMEOUT 900
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cluster/${drill}.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(cluster.${drill} PROPERTIES RESOURCE_LOCK cf_cluster)
endforeach()
