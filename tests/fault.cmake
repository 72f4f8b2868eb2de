# Fault tests (label fault; long): the agent killed with kill -9 at 250 calibrated random moments
# while appending events and while syncing; afterwards every finished append is kept and
# the terminal's chain is the server's (tests/e2e/agent_visit.sh; the short runs of
# the same cases are in e2e.cmake).
if(NOT TARGET ag_core OR NOT TARGET carefactd OR NOT TARGET pn532-sim)
  return()
endif()
cf_add_test(NAME fault.agent.kill_appends LABEL fault TIMEOUT 1800
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/agent_visit.sh kill_appends 250)
cf_add_test(NAME fault.agent.kill_sync LABEL fault TIMEOUT 1800
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/agent_visit.sh kill_sync 250)
