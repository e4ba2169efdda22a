# SPDX-License-Identifier: MIT
# Finds courier's dependencies; used by the build and by the installed courierConfig.cmake alike.
# moodycamel ReaderWriterQueue (Debian: libreaderwriterqueue-dev) ships no CMake config, so it is found by its
# header and wrapped in an imported target.
if(NOT TARGET courier::readerwriterqueue)
    find_path(COURIER_READERWRITERQUEUE_INCLUDE_DIR readerwriterqueue/readerwriterqueue.h)
    if(NOT COURIER_READERWRITERQUEUE_INCLUDE_DIR)
        message(FATAL_ERROR "courier needs moodycamel ReaderWriterQueue: apt-get install libreaderwriterqueue-dev")
    endif()
    add_library(courier::readerwriterqueue INTERFACE IMPORTED)
    set_target_properties(courier::readerwriterqueue PROPERTIES
        INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${COURIER_READERWRITERQUEUE_INCLUDE_DIR}"
        INTERFACE_INCLUDE_DIRECTORIES "${COURIER_READERWRITERQUEUE_INCLUDE_DIR}")
endif()
find_package(Threads REQUIRED)
