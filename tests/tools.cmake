# Tests of tools/: the PN532 emulator's frame codec and command layer (unit), the
# frame decoder's fuzz target, the synthetic card generator (unit and command line)
# and the check that nothing reaches outside the checkout. The emulator's and the
# generated cards' end-to-end use is in tests/agent.cmake.
cf_add_test(NAME unit.tools.standalone LABEL unit
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/unit/tools/check_standalone.sh)
if(TARGET sim_frame)
  cf_add_unit_test(tools sim_frame sim_frame)
  cf_add_unit_test(tools sim_pn532 sim_core)
  cf_add_fuzz_target(sim_frame sim_frame cf_shared)
endif()
if(TARGET carefact-gen-card)
  cf_add_unit_test(tools gen_card gen_card)
  cf_add_test(NAME e2e.tools.gen_card_cli LABEL e2e
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/gen_card_cli.sh)
endif()
