# SPDX-License-Identifier: MIT
# Builds and runs tests/consumer/project against courier. MODE=find_package first installs courier from SOURCE
# into a scratch prefix; MODE=add_subdirectory includes SOURCE directly. Called by ctest with cmake -P.
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
    set(generator_args -G Ninja)
endif()

if(MODE STREQUAL "find_package")
    run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/courier-build ${generator_args} -DCMAKE_CXX_COMPILER=${CXX}
        -DCOURIER_BUILD_TESTS=OFF -DCOURIER_BUILD_DEMOS=OFF -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
    run(${CMAKE_COMMAND} --build ${WORK}/courier-build)
    run(${CMAKE_COMMAND} --install ${WORK}/courier-build)
    set(mode_args -DCMAKE_PREFIX_PATH=${WORK}/prefix)
else()
    set(mode_args -DCOURIER_SOURCE=${SOURCE})
endif()

if(NOT DEFINED WITH_AUDIO)
    set(WITH_AUDIO OFF)
endif()
run(${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/project -B ${WORK}/consumer-build ${generator_args}
    -DCMAKE_CXX_COMPILER=${CXX} -DCOURIER_MODE=${MODE} -DCONSUMER_WITH_AUDIO=${WITH_AUDIO} ${mode_args})
run(${CMAKE_COMMAND} --build ${WORK}/consumer-build)
run(${WORK}/consumer-build/consumer)
