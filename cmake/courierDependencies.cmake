# SPDX-License-Identifier: MIT
# Finds what courier::core needs (the system's threads) and, quietly, moodycamel ReaderWriterQueue for the
# optional courier::moodycamel storage policy; used by the build and by the installed courierConfig.cmake.
# moodycamel (Debian: libreaderwriterqueue-dev) ships no CMake config, so it is found by its header and
# wrapped in an imported target. courier::core and courier::patterns never need it.
if(NOT TARGET courier::readerwriterqueue)
    find_path(COURIER_READERWRITERQUEUE_INCLUDE_DIR readerwriterqueue/readerwriterqueue.h)
    if(COURIER_READERWRITERQUEUE_INCLUDE_DIR)
        add_library(courier::readerwriterqueue INTERFACE IMPORTED)
        set_target_properties(courier::readerwriterqueue PROPERTIES
            INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${COURIER_READERWRITERQUEUE_INCLUDE_DIR}"
            INTERFACE_INCLUDE_DIRECTORIES "${COURIER_READERWRITERQUEUE_INCLUDE_DIR}")
    endif()
endif()
find_package(Threads REQUIRED)
