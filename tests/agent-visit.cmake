# Tests of the agent's store, visit and sync (issue 5). The unit tests
# (tests/unit/agent/test_store.c, test_visit.c) are registered by tests/agent.cmake's
# glob; here: the fault proxy the sync tests put between agent and server, and the
# end-to-end (label e2e) and kill -9 (label fault) cases of tests/e2e/agent_visit.sh,
# each with the real agent, carefactd, PostgreSQL and the PN532 emulator.
if(NOT TARGET ag_core OR NOT TARGET carefactd OR NOT TARGET pn532-sim)
  return()
endif()

add_executable(fault_proxy ${CMAKE_CURRENT_SOURCE_DIR}/support/fault_proxy.c)

set(AG_VISIT_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/e2e/agent_visit.sh)
foreach(case_name IN ITEMS full_visit offline_day lost_response backend_restart clock full_disk
        epoch_change damaged_store wrong_answers bad_reference terminal unknown_card
        https_pinned)
  cf_add_test(NAME e2e.agent.visit.${case_name} LABEL e2e TIMEOUT 300
              COMMAND bash ${AG_VISIT_SCRIPT} ${case_name})
endforeach()
set_tests_properties(e2e.agent.visit.full_disk PROPERTIES SKIP_RETURN_CODE 77)

# kill -9 at calibrated random moments: a short run in the default suite, 250 under
# "fault". Fewer runs would make the minimum counts the cases assert flaky.
cf_add_test(NAME e2e.agent.visit.kill_appends_short LABEL e2e TIMEOUT 300
            COMMAND bash ${AG_VISIT_SCRIPT} kill_appends 100)
cf_add_test(NAME e2e.agent.visit.kill_sync_short LABEL e2e TIMEOUT 300
            COMMAND bash ${AG_VISIT_SCRIPT} kill_sync 40)
cf_add_test(NAME fault.agent.kill_appends LABEL fault TIMEOUT 1800
            COMMAND bash ${AG_VISIT_SCRIPT} kill_appends 250)
cf_add_test(NAME fault.agent.kill_sync LABEL fault TIMEOUT 1800
            COMMAND bash ${AG_VISIT_SCRIPT} kill_sync 250)

# The power-cut check: an LD_PRELOAD library that follows writes and fsyncs of the store
# and checks, whenever the agent prints, that everything it wrote was synced. Built
# without sanitizers: it is loaded into the agent, never linked.
add_library(cf_sync_shim MODULE ${CMAKE_CURRENT_SOURCE_DIR}/support/sync_shim.c)
target_link_libraries(cf_sync_shim PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(cf_sync_shim PRIVATE -fno-sanitize=all)
target_link_options(cf_sync_shim PRIVATE -fno-sanitize=all)
set_target_properties(cf_sync_shim PROPERTIES PREFIX "")
cf_add_test(NAME e2e.agent.visit.durable LABEL e2e TIMEOUT 300
            COMMAND bash ${AG_VISIT_SCRIPT} durable)
