# Tests of tools/: the PN532 emulator's frame codec and command layer (unit) and the
# frame decoder's fuzz target. The emulator's end-to-end use is in tests/agent.cmake.
if(TARGET sim_frame)
  cf_add_unit_test(tools sim_frame sim_frame)
  cf_add_unit_test(tools sim_pn532 sim_core)
  cf_add_fuzz_target(sim_frame sim_frame cf_shared)
endif()

# Tests install and fetch nothing (tools/deps does, before the suite): a static check
# of every file under tests/.
cf_add_test(NAME unit.tests.install_nothing LABEL unit
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/support/check_no_install.sh)
