# Fuzz targets (label fuzz), one per parser of outside input: tests/fuzz/fuzz_<name>.c
# with its seed corpus in tests/fuzz/corpus/<name>/ (see cf_add_fuzz_target).

# firmware-shared: BER-TLV, EMV responses, card transcripts, event and batch JSON, the
# EMV offline data authentication verifier.
foreach(name IN ITEMS tlv emv transcript event_json batch_json oda)
  cf_add_fuzz_target(${name} cf_shared)
endforeach()

# The agent: reference records the server or a damaged store hands the terminal; the
# server's answers to the sync (acknowledgements, problems, reference list and fetch).
if(TARGET ag_core)
  cf_add_fuzz_target(reference ag_core)
  cf_add_fuzz_target(agent_answers ag_core)
endif()

# carefactd: query strings, the configuration file, the payment register's id parser and
# CSV writer, the bodies of the review routes (corrections, resolutions, register changes).
if(TARGET be_core)
  cf_add_fuzz_target(query be_core)
  cf_add_fuzz_target(config be_core)
  cf_add_fuzz_target(register be_core)
  cf_add_fuzz_target(request_body be_core)
endif()

# The PN532 emulator's frame decoder.
if(TARGET sim_frame)
  cf_add_fuzz_target(sim_frame sim_frame cf_shared)
endif()
