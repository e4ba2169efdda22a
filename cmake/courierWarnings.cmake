# SPDX-License-Identifier: MIT
# Flags for courier's own tests and demos only: never global, never exported to users.
add_library(courier_warnings INTERFACE)
target_compile_options(courier_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow $<$<BOOL:${COURIER_WERROR}>:-Werror>)

# doctest's test-case macros use __COUNTER__, which clang 22 calls a C2y extension under -Wpedantic.
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-Wno-c2y-extensions COURIER_HAS_WNO_C2Y_EXTENSIONS)
if(COURIER_HAS_WNO_C2Y_EXTENSIONS)
    target_compile_options(courier_warnings INTERFACE -Wno-c2y-extensions)
endif()

# The sanitizer chosen with COURIER_SANITIZER, for the same targets.
add_library(courier_sanitizer INTERFACE)
if(COURIER_SANITIZER STREQUAL "thread")
    target_compile_options(courier_sanitizer INTERFACE -fsanitize=thread -g -O1)
    target_link_options(courier_sanitizer INTERFACE -fsanitize=thread)
elseif(COURIER_SANITIZER STREQUAL "address")
    target_compile_options(courier_sanitizer INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all
                                                       -fno-omit-frame-pointer -g -O1)
    target_link_options(courier_sanitizer INTERFACE -fsanitize=address,undefined)
elseif(COURIER_SANITIZER STREQUAL "realtime")
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 20)
        message(FATAL_ERROR "COURIER_SANITIZER=realtime needs Clang 20 or later (Debian: clang-22)")
    endif()
    target_compile_options(courier_sanitizer INTERFACE -fsanitize=realtime -g -O1)
    target_link_options(courier_sanitizer INTERFACE -fsanitize=realtime)
    target_compile_definitions(courier_sanitizer INTERFACE COURIER_RTSAN=1)
elseif(NOT COURIER_SANITIZER STREQUAL "")
    message(FATAL_ERROR "COURIER_SANITIZER must be thread, address, realtime or empty")
endif()
target_link_libraries(courier_warnings INTERFACE courier_sanitizer)
