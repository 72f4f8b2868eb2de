# Unit tests and fuzz targets of firmware-shared.
set(CF_SHARED_FUZZ_NAMES tlv emv transcript event_json batch_json)
file(GLOB CF_SHARED_UNIT_TESTS CONFIGURE_DEPENDS
     "${CMAKE_CURRENT_SOURCE_DIR}/unit/firmware-shared/test_*.c")
foreach(src ${CF_SHARED_UNIT_TESTS})
  get_filename_component(stem ${src} NAME_WE)
  string(REGEX REPLACE "^test_" "" name ${stem})
  cf_add_unit_test(firmware-shared ${name} cf_shared)
endforeach()

# Fuzz targets, one per parser of outside input (tests/fuzz/fuzz_<name>.c).
foreach(name IN ITEMS ${CF_SHARED_FUZZ_NAMES})
  cf_add_fuzz_target(${name} cf_shared)
endforeach()
