# Tests of tools/: the PN532 emulator's frame codec and command layer (unit) and the
# frame decoder's fuzz target. The emulator's end-to-end use is in tests/agent.cmake.
if(TARGET sim_frame)
  cf_add_unit_test(tools sim_frame sim_frame)
  cf_add_unit_test(tools sim_pn532 sim_core)
  cf_add_fuzz_target(sim_frame sim_frame cf_shared)
endif()
