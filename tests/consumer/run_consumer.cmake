# SPDX-License-Identifier: MIT
# Builds and runs tests/consumer/project against courier. MODE=find_package first installs courier from SOURCE
# into a scratch prefix; MODE=add_subdirectory includes SOURCE directly. BLIND=ON builds, installs and consumes
# courier's core, patterns and engine with every third-party package out of sight: find_* skips /usr (moodycamel, JUCE's
# CMake package, pkg-config itself) and PKG_CONFIG_LIBDIR points at an empty folder (PortAudio, libsndfile,
# liblo), so the test proves a header-only user, and a plugin on the engine, needs nothing but a compiler. Called by ctest with cmake -P.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
    endif()
    message(STATUS "${out}")
endfunction()

set(generator_args)
find_program(NINJA ninja)
if(NINJA)
    set(generator_args -G Ninja -DCMAKE_MAKE_PROGRAM=${NINJA})
endif()
set(courier_args)
if(BLIND)
    file(MAKE_DIRECTORY ${WORK}/empty-pkgconfig)
    set(ENV{PKG_CONFIG_LIBDIR} ${WORK}/empty-pkgconfig)
    set(ENV{PKG_CONFIG_PATH} "")
    list(APPEND generator_args -DCMAKE_IGNORE_PREFIX_PATH=/usr -DCMAKE_IGNORE_PATH=/usr/include)
    set(courier_args -DCOURIER_BUILD_AUDIO=OFF -DCOURIER_BUILD_GUI=OFF)
    set(WITH_AUDIO OFF)
endif()

if(MODE STREQUAL "find_package")
    run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/courier-build ${generator_args} -DCMAKE_CXX_COMPILER=${CXX}
        -DCOURIER_BUILD_TESTS=OFF -DCOURIER_BUILD_DEMOS=OFF -DCMAKE_INSTALL_PREFIX=${WORK}/prefix ${courier_args})
    run(${CMAKE_COMMAND} --build ${WORK}/courier-build)
    run(${CMAKE_COMMAND} --install ${WORK}/courier-build)
    set(mode_args -DCMAKE_PREFIX_PATH=${WORK}/prefix)
else()
    set(mode_args -DCOURIER_SOURCE=${SOURCE})
endif()

if(NOT DEFINED WITH_AUDIO)
    set(WITH_AUDIO OFF)
endif()
# The engine needs nothing beyond core and patterns: every mode links it, the blind one included.
run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/project -B ${WORK}/consumer-build ${generator_args}
    -DCMAKE_CXX_COMPILER=${CXX} -DCOURIER_MODE=${MODE} -DCONSUMER_WITH_AUDIO=${WITH_AUDIO}
    -DCONSUMER_WITH_ENGINE=ON ${mode_args})
run(${CMAKE_COMMAND} --build ${WORK}/consumer-build)
run(${WORK}/consumer-build/consumer)
if(BLIND)
    # The proof is only as good as the blindfold: moodycamel and PortAudio must really have been out of sight.
    file(READ ${WORK}/courier-build/CMakeCache.txt courier_cache)
    if(NOT courier_cache MATCHES "COURIER_READERWRITERQUEUE_INCLUDE_DIR:PATH=COURIER_READERWRITERQUEUE_INCLUDE_DIR-NOTFOUND")
        message(FATAL_ERROR "BLIND run still found moodycamel; the test proves nothing")
    endif()
    if(EXISTS ${WORK}/prefix/lib/cmake/courier/courier-audio-targets.cmake)
        message(FATAL_ERROR "BLIND run installed courier::audio; the test proves nothing")
    endif()
    if(NOT EXISTS ${WORK}/prefix/lib/cmake/courier/courier-engine-targets.cmake)
        message(FATAL_ERROR "BLIND run did not install courier::engine, which needs no third-party package")
    endif()
    message(STATUS "core, patterns and engine built, installed and consumed with moodycamel, pkg-config and PortAudio out of sight")
endif()
