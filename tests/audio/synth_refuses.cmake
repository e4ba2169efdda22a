# SPDX-License-Identifier: MIT
# Runs courier-synth with arguments it must refuse and checks the exit status and the message (demos/synth/README.md,
# "Exit status"). Run by ctest with -DSYNTH, -DARGS (the arguments, separated by '|'), -DSTATUS and -DMESSAGE (a
# regular expression the output must match).
string(REPLACE "|" ";" arguments "${ARGS}")
execute_process(COMMAND ${SYNTH} ${arguments} RESULT_VARIABLE status OUTPUT_VARIABLE printed ERROR_VARIABLE printed
                TIMEOUT 60)
if(NOT status STREQUAL STATUS)
    message(FATAL_ERROR "courier-synth ${arguments}: exit status ${status}, expected ${STATUS}:\n${printed}")
endif()
if(NOT printed MATCHES "${MESSAGE}")
    message(FATAL_ERROR "courier-synth ${arguments}: the message does not match '${MESSAGE}':\n${printed}")
endif()
message(STATUS "courier-synth ${arguments}: exit status ${status}, ${printed}")
