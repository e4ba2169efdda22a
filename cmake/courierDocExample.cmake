# SPDX-License-Identifier: MIT
# courier_extract_doc_example(<markdown> <marker> <output> [<prefix>]): writes the C++ block that follows
# <marker> in <markdown> to <output> (after <prefix>), and reconfigures when the page changes, so code that a
# page shows is the code a test compiles. Fails the configure when the marker is missing.
function(courier_extract_doc_example markdown marker output)
    file(READ ${markdown} page)
    string(FIND "${page}" "${marker}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "${markdown} has no ${marker} marker")
    endif()
    string(SUBSTRING "${page}" ${at} -1 after_marker)
    string(REGEX MATCH "```cpp\n(.*)" _ "${after_marker}")
    string(FIND "${CMAKE_MATCH_1}" "```" block_end)
    string(SUBSTRING "${CMAKE_MATCH_1}" 0 ${block_end} block)
    file(CONFIGURE OUTPUT ${output} CONTENT "${ARGN}${block}" @ONLY)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${markdown})
endfunction()
