# Fuzz targets of the agent's and the backend's own parsers of outside input (the
# firmware-shared ones are in firmware-shared.cmake): reference records the server
# or a damaged store hands the terminal, carefactd's query strings, its
# configuration file, the payment register's id parser and CSV writer, and the
# bodies of the review routes (corrections, resolutions, register changes).
if(TARGET ag_core)
  cf_add_fuzz_target(reference ag_core)
endif()
if(TARGET be_core)
  cf_add_fuzz_target(query be_core)
  cf_add_fuzz_target(config be_core)
  cf_add_fuzz_target(register be_core)
  cf_add_fuzz_target(request_body be_core)
endif()
