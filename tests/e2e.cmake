# End-to-end tests (label e2e): the real carefact-agent with libnfc's pn532_uart driver
# against tools/pn532-sim, and with carefactd and a private PostgreSQL behind it, one
# ctest per case of the scripts in tests/e2e; then the demo as a user runs it.
if(NOT TARGET ag_core OR NOT TARGET pn532-sim)
  return()
endif()

# ==== Reading cards (tests/e2e/agent_read_card.sh) ====

set(AG_READ_CARD_SCRIPT "${CMAKE_CURRENT_SOURCE_DIR}/e2e/agent_read_card.sh")
foreach(case_name IN ITEMS
        uid_classic uid_ultralight_placed_later uid_iso_dep_no_app no_card removed_mid_read
        extended_frame
        fault_checksum_once fault_checksum_always fault_error_frame_once
        fault_error_frame_always fault_slow_tolerated fault_slow_timeout fault_silence
        fault_silence_at_open reader_not_found libnfc_device_env text_output bad_arguments)
  cf_add_test(NAME e2e.agent.read_card.${case_name} LABEL e2e TIMEOUT 90
              COMMAND bash ${AG_READ_CARD_SCRIPT} ${case_name})
endforeach()

# Every EMV transcript file is a case of its own; the licence and provenance notes are not.
file(GLOB AG_TRANSCRIPTS CONFIGURE_DEPENDS "${CF_TESTDATA}/emv/devnied/*")
list(FILTER AG_TRANSCRIPTS EXCLUDE REGEX "\\.(txt|md)$")
if(NOT AG_TRANSCRIPTS)
  message(WARNING "no EMV transcripts in ${CF_TESTDATA}/emv/devnied: the e2e transcript cases fail")
  cf_add_test(NAME e2e.agent.read_card.transcripts_missing LABEL e2e
              COMMAND sh -c "echo 'no transcripts in ${CF_TESTDATA}/emv/devnied' >&2; exit 1")
endif()
foreach(path ${AG_TRANSCRIPTS})
  get_filename_component(name ${path} NAME)
  cf_add_test(NAME e2e.agent.read_card.emv.${name} LABEL e2e TIMEOUT 90
              COMMAND bash ${AG_READ_CARD_SCRIPT} transcript ${name})
endforeach()

# Synthetic cards (tools/gen-card) of every scheme in three record layouts: PAN in a
# record with a PDOL; track 2 only in a GPO answer with long lengths and no PDOL; GPO
# format 1 over five records in two files. And the generator's command line.
if(TARGET carefact-gen-card)
  set(AG_GEN_LAYOUTS
      "records:pan=record,gpo=2,pdol=yes,records=2"
      "track2_long:pan=track2,gpo=2,pdol=no,records=1,lengths=long"
      "format1:pan=record,gpo=1,pdol=no,records=5")
  set(seed 100)
  foreach(scheme IN ITEMS mir visa mastercard maestro unionpay)
    foreach(entry IN LISTS AG_GEN_LAYOUTS)
      string(REPLACE ":" ";" parts "${entry}")
      list(GET parts 0 layout_name)
      list(GET parts 1 layout)
      math(EXPR seed "${seed} + 1")
      cf_add_test(NAME e2e.agent.read_card.gen.${scheme}.${layout_name} LABEL e2e TIMEOUT 90
                  COMMAND bash ${AG_READ_CARD_SCRIPT} generated ${scheme} ${layout} ${seed})
    endforeach()
  endforeach()
  cf_add_test(NAME e2e.tools.gen_card_cli LABEL e2e
              COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/gen_card_cli.sh)
endif()

if(NOT TARGET carefactd)
  return()
endif()

# The demo itself, as a user runs it (on this build tree).
cf_add_test(NAME e2e.demo LABEL e2e TIMEOUT 400 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/e2e/demo.sh)

# ==== Visits, store and sync (tests/e2e/agent_visit.sh) ====

# The agent's store, visit and sync (issue 5) with the real agent, carefactd, PostgreSQL
# and the emulator; the sync cases put fault_proxy between agent and server.
set(AG_VISIT_SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/e2e/agent_visit.sh)
foreach(case_name IN ITEMS full_visit offline_day lost_response backend_restart clock full_disk
        epoch_change damaged_store wrong_answers bad_reference terminal unknown_card
        https_pinned desk_check_in brigade_trip brigade_day)
  cf_add_test(NAME e2e.agent.visit.${case_name} LABEL e2e TIMEOUT 300
              COMMAND bash ${AG_VISIT_SCRIPT} ${case_name})
endforeach()
set_tests_properties(e2e.agent.visit.full_disk PROPERTIES SKIP_RETURN_CODE 77)

# kill -9 at calibrated random moments: a short run here, 250 under "fault" (fault.cmake).
# Fewer runs would make the minimum counts the cases assert flaky.
cf_add_test(NAME e2e.agent.visit.kill_appends_short LABEL e2e TIMEOUT 300
            COMMAND bash ${AG_VISIT_SCRIPT} kill_appends 100)
cf_add_test(NAME e2e.agent.visit.kill_sync_short LABEL e2e TIMEOUT 300
            COMMAND bash ${AG_VISIT_SCRIPT} kill_sync 40)

# The power-cut check: an LD_PRELOAD library that follows writes and fsyncs of the store
# and checks, whenever the agent prints, that everything it wrote was synced. Built
# without sanitizers: it is loaded into the agent, never linked.
add_library(cf_sync_shim MODULE ${CF_TEST_SUPPORT_DIR}/sync_shim.c)
target_link_libraries(cf_sync_shim PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(cf_sync_shim PRIVATE -fno-sanitize=all)
target_link_options(cf_sync_shim PRIVATE -fno-sanitize=all)
set_target_properties(cf_sync_shim PROPERTIES PREFIX "")
cf_add_test(NAME e2e.agent.visit.durable LABEL e2e TIMEOUT 300
            COMMAND bash ${AG_VISIT_SCRIPT} durable)

# ==== The card's proof (issue 14, tests/e2e/agent_proof.sh) ====

# Synthetic cards that sign (gen-card --oda, live in pn532-sim) read by the agent on
# visits and bindings; the stored proofs checked against the cards and the events.
if(TARGET carefact-gen-card AND TARGET carefact-emv-pki)
  foreach(case_name IN ITEMS cards recorded levels daemon)
    cf_add_test(NAME e2e.agent.proof.${case_name} LABEL e2e TIMEOUT 300
                COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/agent_proof.sh ${case_name})
  endforeach()
endif()
