# The test support library: every function and shared target the test parts use.
# tests/CMakeLists.txt includes this file first, then the parts (unit.cmake,
# integration.cmake, ...); a part only calls what is defined here, so parts can be
# added, removed or reordered without one depending on another.
#
#   cf_add_test            register any command as a test with one label and a timeout
#   cf_add_unit_test       a cmocka test of tests/unit/<component>/test_<name>.c
#   cf_add_unit_tests      every tests/unit/<component>/test_*.c, each a cf_add_unit_test
#   cf_add_fuzz_target     a libFuzzer target (or corpus replay) of tests/fuzz/fuzz_<name>.c
#   cf_add_server_test     a C test against a private PostgreSQL and the real carefactd,
#                          linked with cf_test_support (tests/support: harness, API checks,
#                          the enrolled test terminal), optionally contract-recorded
#   cf_contract_record     record a test's HTTP exchanges for integration.backend.contract
#
# Targets: cf_test_support (when carefactd is built) and fault_proxy.

set(CF_TEST_LABELS unit integration e2e fault browser security fuzz cluster)
set(CF_TESTS_DIR ${CMAKE_CURRENT_SOURCE_DIR}) # tests/ (functions run in their caller's scope)
set(CF_TEST_SUPPORT_DIR ${CMAKE_CURRENT_LIST_DIR})

# ==== Any test ====

# cf_add_test(NAME name LABEL label COMMAND cmd... [TIMEOUT s] [ENVIRONMENT k=v...])
# Each test is its own process with a timeout and exactly one label, so `ctest -L unit`,
# `-L integration`, `-L fuzz` ... select them. Tests see CF_SOURCE_DIR, CF_BINARY_DIR and
# CF_TESTDATA in their environment.
function(cf_add_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "COMMAND;ENVIRONMENT" ${ARGN})
  if(NOT T_LABEL IN_LIST CF_TEST_LABELS)
    message(FATAL_ERROR "test ${T_NAME}: label '${T_LABEL}' is not one of ${CF_TEST_LABELS}")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "CF_SOURCE_DIR=${CMAKE_SOURCE_DIR};CF_BINARY_DIR=${CMAKE_BINARY_DIR};CF_TESTDATA=${CF_TESTDATA};${T_ENVIRONMENT}")
endfunction()

# ==== Unit tests ====

# cf_add_unit_test(component name LIBS...): tests/unit/<component>/test_<name>.c as the
# test unit.<component>.<name>. Called again for a test that is already registered (by
# cf_add_unit_tests' glob, say), it only links the further LIBS.
function(cf_add_unit_test component name)
  set(target test_${component}_${name})
  string(REPLACE "-" "_" target ${target})
  if(TARGET ${target})
    target_link_libraries(${target} PRIVATE ${ARGN})
    return()
  endif()
  add_executable(${target} ${CF_TESTS_DIR}/unit/${component}/test_${name}.c)
  target_link_libraries(${target} PRIVATE PkgConfig::CMOCKA ${ARGN})
  target_include_directories(${target} PRIVATE ${CF_TEST_SUPPORT_DIR})
  cf_add_test(NAME unit.${component}.${name} LABEL unit COMMAND ${target})
endfunction()

# cf_add_unit_tests(component LIBS...): every tests/unit/<component>/test_*.c, linked
# with LIBS. A new unit test of the component is a new file; nothing to register.
function(cf_add_unit_tests component)
  file(GLOB sources CONFIGURE_DEPENDS "${CF_TESTS_DIR}/unit/${component}/test_*.c")
  list(SORT sources)
  foreach(src ${sources})
    get_filename_component(stem ${src} NAME_WE)
    string(REGEX REPLACE "^test_" "" name ${stem})
    cf_add_unit_test(${component} ${name} ${ARGN})
  endforeach()
endfunction()

# ==== Fuzz targets ====

# cf_add_fuzz_target(name LIBS...): tests/fuzz/fuzz_<name>.c with a seed corpus in
# tests/fuzz/corpus/<name>/. With CF_FUZZ (clang) it is a libFuzzer binary and the ctest
# entry fuzzes briefly from the corpus; otherwise a standalone driver replays the corpus,
# so every build at least runs the seeds through the parser.
set(CF_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs under ctest when CF_FUZZ=ON")
function(cf_add_fuzz_target name)
  set(target fuzz_${name})
  add_executable(${target} ${CF_TESTS_DIR}/fuzz/fuzz_${name}.c)
  target_link_libraries(${target} PRIVATE ${ARGN})
  target_include_directories(${target} PRIVATE ${CF_TEST_SUPPORT_DIR})
  set(corpus ${CF_TESTS_DIR}/fuzz/corpus/${name})
  if(CF_FUZZ)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${name})
    file(MAKE_DIRECTORY ${work})
    cf_add_test(NAME fuzz.${name} LABEL fuzz TIMEOUT 300
      COMMAND ${target} -max_total_time=${CF_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
              -print_final_stats=1 ${work} ${corpus})
  else()
    target_sources(${target} PRIVATE ${CF_TESTS_DIR}/fuzz/standalone_main.c)
    cf_add_test(NAME fuzz.${name} LABEL fuzz COMMAND ${target} ${corpus})
  endif()
endfunction()

# ==== Tests against PostgreSQL and carefactd ====

# The contract check: every HTTP exchange of the tests given to cf_contract_record() is
# recorded by the harness (tests/support/harness.c) into CF_CONTRACT_DIR and validated
# against api/openapi.yaml once they have all run (integration.backend.contract, with
# integration.backend.contract_reset starting fresh recordings: both in integration.cmake).
set(CF_CONTRACT_DIR ${CMAKE_BINARY_DIR}/contract)
file(MAKE_DIRECTORY ${CF_CONTRACT_DIR})
function(cf_contract_record test)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT
               CF_CONTRACT_LOG=${CF_CONTRACT_DIR}/${test}.jsonl)
  set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED contract_recording)
  set_property(TEST ${test} APPEND PROPERTY FIXTURES_SETUP contract_recorded)
endfunction()

# cf_test_support: the C support library of the server tests. harness.c starts a private
# PostgreSQL (tools/pg) and carefactd and speaks HTTP to it; api_check.c holds the cmocka
# checks of answers and problems; terminal.c is an enrolled test terminal that signs and
# uploads event batches as the agent does.
if(TARGET carefactd)
  find_package(Threads REQUIRED)
  add_library(cf_test_support STATIC ${CF_TEST_SUPPORT_DIR}/harness.c
              ${CF_TEST_SUPPORT_DIR}/api_check.c ${CF_TEST_SUPPORT_DIR}/terminal.c)
  target_include_directories(cf_test_support PUBLIC ${CF_TEST_SUPPORT_DIR})
  target_link_libraries(cf_test_support PUBLIC cf_shared PkgConfig::LIBCURL PkgConfig::LIBPQ
                        PkgConfig::CMOCKA PkgConfig::CJSON Threads::Threads m)
endif()

# cf_add_server_test(NAME test LABEL label SOURCE file.c [TIMEOUT s] [LIBS ...] [CONTRACT])
# A cmocka program (SOURCE, relative to tests/) linked with cf_test_support that starts
# its own PostgreSQL and carefactd (built first). CONTRACT records its exchanges for the
# contract check.
function(cf_add_server_test)
  cmake_parse_arguments(S "CONTRACT" "NAME;LABEL;SOURCE;TIMEOUT" "LIBS" ${ARGN})
  if(NOT TARGET cf_test_support)
    message(FATAL_ERROR "test ${S_NAME}: cf_add_server_test needs carefactd (guard with "
                        "if(TARGET carefactd))")
  endif()
  get_filename_component(stem ${S_SOURCE} NAME_WE)
  get_filename_component(kind ${S_SOURCE} DIRECTORY)
  string(REGEX REPLACE "^test_" "" stem ${stem})
  set(target test_${kind}_${stem})
  add_executable(${target} ${CF_TESTS_DIR}/${S_SOURCE})
  target_link_libraries(${target} PRIVATE cf_test_support ${S_LIBS})
  add_dependencies(${target} carefactd)
  cf_add_test(NAME ${S_NAME} LABEL ${S_LABEL} TIMEOUT ${S_TIMEOUT} COMMAND ${target})
  if(S_CONTRACT)
    cf_contract_record(${S_NAME})
  endif()
endfunction()

# ==== Tools the tests run ====

# An HTTP proxy that forwards, loses answers, plays a captive portal... as its mode file
# says: the agent's sync tests put it between the agent and carefactd (e2e/agent_visit.sh).
add_executable(fault_proxy ${CF_TEST_SUPPORT_DIR}/fault_proxy.c)
