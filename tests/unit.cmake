# Unit tests (label unit): cmocka programs, one per module, no servers, no network.
# tests/unit/<component>/test_<module>.c is registered as unit.<component>.<module>;
# for firmware-shared, agent and backend a new file is all it takes (the glob), linked
# with the component's library.

cf_add_unit_tests(firmware-shared cf_shared)

if(TARGET ag_core)
  cf_add_unit_tests(agent ag_core)
endif()

# The backend's pure modules: query strings, configuration, event rows, passwords, the
# payment register's ids and CSV. Only be_core's public headers are included.
if(TARGET be_core)
  cf_add_unit_tests(backend be_core)
endif()

# The PN532 emulator's frame codec and command layer (tools/pn532-sim).
if(TARGET sim_frame)
  cf_add_unit_test(tools sim_frame sim_frame)
  cf_add_unit_test(tools sim_pn532 sim_core)
endif()

# The synthetic card generator (tools/gen-card), and the check that nothing in the
# project reaches outside the checkout (see the script for what it looks for).
cf_add_test(NAME unit.tools.standalone LABEL unit
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/unit/tools/check_standalone.sh)
if(TARGET carefact-gen-card)
  cf_add_unit_test(tools gen_card gen_card)
endif()

# EMV offline data authentication: the test PKI (tools/emv-pki) against the verifier
# (firmware-shared cf/oda.h).
if(TARGET emv_pki)
  cf_add_unit_test(tools emv_pki emv_pki)
endif()

# The card side: synthetic cards certified by gen-card --oda, answering through the live
# card, read by cf_emv_read_proof and checked by cf/oda.h.
if(TARGET gen_card_oda)
  cf_add_unit_test(tools gen_card_oda gen_card_oda)
endif()

# Tests install and fetch nothing (tools/deps does, before the suite): a static check
# of every file under tests/.
cf_add_test(NAME unit.tests.install_nothing LABEL unit
            COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/support/check_no_install.sh)
