# CMake toolchain file: carefact's terminal side (firmware-shared, the agent, the PN532
# emulator and card generator its tests use) for 64-bit ARM handhelds, built with Debian's
# cross compiler against Debian's multiarch arm64 libraries (tools/deps installs
# both), and run under qemu-user: ctest prefixes every test program with qemu-aarch64.
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=tools/cross/aarch64-linux-gnu.cmake
#   cmake --build build/aarch64 && ctest --test-dir build/aarch64 -L unit
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# The arm64 .pc files only (the host's would hand the linker x86-64 libraries), and
# aarch64-pkgconfig/ for libnfc, whose -dev package is single-architecture (see there).
set(ENV{PKG_CONFIG_LIBDIR}
    "${CMAKE_CURRENT_LIST_DIR}/aarch64-pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# What runs on a terminal; carefactd and its tests stay on the x86-64 build.
set(CF_TERMINAL_ONLY ON CACHE BOOL "Build only what runs on the terminal" FORCE)
