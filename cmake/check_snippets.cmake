# SPDX-License-Identifier: MIT
# Checks that every code snippet in docs/ is a current copy of the test lines it shows (STYLE.md section 6;
# the markers are explained in docs/patterns/README.md).
#
#   cmake -DSOURCE_DIR=<repo> -P cmake/check_snippets.cmake            check; fails on any drift
#   cmake -DSOURCE_DIR=<repo> -DFIX=ON -P cmake/check_snippets.cmake   rewrite the doc blocks from the tests
#
# In a test file, a snippet is the lines between two identical marker lines `// [name]` (markers excluded).
# In a doc page, the line `<!-- snippet: tests/core/lane_test.cpp [name] -->` is followed at once by a
# ```cpp fenced block holding exactly those lines, with their common leading indentation removed.
# The check also fails when a marker or file is missing, a snippet is longer than 25 lines, or a page in
# docs/patterns/ (other than README.md) shows no snippet at all.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED SOURCE_DIR)
    get_filename_component(SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)  # a relative path is taken from the working directory
set(max_snippet_lines 25)

# CMake lists split on ';' but not inside '[...]', and C++ is full of both. So text is held with those three
# characters swapped for control characters, which occur in neither C++ nor Markdown, and swapped back only
# for matching, printing and writing.
string(ASCII 1 esc_semicolon)
string(ASCII 2 esc_open)
string(ASCII 3 esc_close)

# Reads `file` into the list `out_var`, one escaped element per line (a final newline gives a last "").
function(read_lines file out_var)
    file(READ "${file}" text)
    string(REPLACE "\r\n" "\n" text "${text}")
    string(REPLACE ";" "${esc_semicolon}" text "${text}")
    string(REPLACE "[" "${esc_open}" text "${text}")
    string(REPLACE "]" "${esc_close}" text "${text}")
    string(REPLACE "\n" ";" text "${text}")
    set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# Turns escaped text back into plain text.
function(unescape text out_var)
    string(REPLACE "${esc_semicolon}" ";" text "${text}")
    string(REPLACE "${esc_open}" "[" text "${text}")
    string(REPLACE "${esc_close}" "]" text "${text}")
    set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# Finds snippet `name` in `file` (relative to SOURCE_DIR). Sets `out_var` to its dedented lines joined by
# newlines (escaped text, not a list), or `error_var` to what is wrong.
function(extract_snippet file name out_var error_var)
    set(${out_var} "" PARENT_SCOPE)
    set(${error_var} "" PARENT_SCOPE)
    if(NOT EXISTS "${SOURCE_DIR}/${file}" OR IS_DIRECTORY "${SOURCE_DIR}/${file}")
        set(${error_var} "file ${file} does not exist" PARENT_SCOPE)
        return()
    endif()
    read_lines("${SOURCE_DIR}/${file}" lines)
    list(LENGTH lines count)

    set(markers "")
    set(index 0)
    while(index LESS count)
        list(GET lines ${index} line)
        unescape("${line}" plain)
        string(STRIP "${plain}" plain)
        if(plain STREQUAL "// [${name}]")
            list(APPEND markers ${index})
        endif()
        math(EXPR index "${index} + 1")
    endwhile()

    list(LENGTH markers marker_count)
    if(marker_count EQUAL 0)
        set(${error_var} "no marker line `// [${name}]` in ${file}" PARENT_SCOPE)
        return()
    elseif(NOT marker_count EQUAL 2)
        set(${error_var} "${file} has ${marker_count} marker lines `// [${name}]`; a snippet needs exactly 2"
            PARENT_SCOPE)
        return()
    endif()
    list(GET markers 0 first)
    list(GET markers 1 last)
    math(EXPR first "${first} + 1")
    math(EXPR length "${last} - ${first}")
    if(length EQUAL 0)
        set(${error_var} "snippet [${name}] in ${file} is empty" PARENT_SCOPE)
        return()
    elseif(length GREATER max_snippet_lines)
        set(${error_var} "snippet [${name}] in ${file} has ${length} lines; at most ${max_snippet_lines} allowed"
            PARENT_SCOPE)
        return()
    endif()

    # The common indentation of the non-blank lines.
    set(indent 100000)
    set(index ${first})
    while(index LESS last)
        list(GET lines ${index} line)
        if(NOT line MATCHES "^[ \t]*$")
            # "^[ \t]+", not "*": CMake refuses a regex that can match the empty string.
            set(width 0)
            if(line MATCHES "^([ \t]+)")
                string(LENGTH "${CMAKE_MATCH_1}" width)
            endif()
            if(width LESS indent)
                set(indent ${width})
            endif()
        endif()
        math(EXPR index "${index} + 1")
    endwhile()

    # Built as a string, not a list: list(APPEND) would drop a leading empty element.
    set(result "")
    set(separator "")
    set(index ${first})
    while(index LESS last)
        list(GET lines ${index} line)
        if(line MATCHES "^[ \t]*$")
            set(line "")  # blank lines carry no indentation
        else()
            string(SUBSTRING "${line}" ${indent} -1 line)
        endif()
        string(APPEND result "${separator}${line}")
        set(separator "\n")
        math(EXPR index "${index} + 1")
    endwhile()
    set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE pages LIST_DIRECTORIES false "${SOURCE_DIR}/docs/*.md")
list(SORT pages)
set(problems 0)
set(checked 0)
set(fixed_pages "")

foreach(page IN LISTS pages)
    file(RELATIVE_PATH page_name "${SOURCE_DIR}" "${page}")
    read_lines("${page}" lines)
    list(LENGTH lines count)
    set(output "")  # the page as it should be: escaped text
    set(separator "")
    set(snippets_on_page 0)
    set(page_changed FALSE)

    set(index 0)
    while(index LESS count)
        list(GET lines ${index} line)
        string(APPEND output "${separator}${line}")
        set(separator "\n")
        math(EXPR index "${index} + 1")  # from here on, `index` is the line after the current one
        unescape("${line}" plain)
        string(STRIP "${plain}" plain)
        if(NOT plain MATCHES "^<!-- snippet:")
            continue()
        endif()

        math(EXPR snippets_on_page "${snippets_on_page} + 1")
        if(NOT plain MATCHES "^<!-- snippet: ([^ ]+) \\[([A-Za-z0-9_.-]+)\\] -->$")
            message(NOTICE "${page_name}:${index}: malformed marker `${plain}`; "
                           "write `<!-- snippet: tests/core/<file>.cpp [name] -->`")
            math(EXPR problems "${problems} + 1")
            continue()
        endif()
        set(file "${CMAKE_MATCH_1}")
        set(name "${CMAKE_MATCH_2}")
        set(where "${page_name}:${index}: snippet ${file} [${name}]")
        math(EXPR checked "${checked} + 1")

        # The fenced block: "```cpp" on the very next line, up to the next "```".
        set(block_open ${index})
        set(block_close -1)
        set(fence "")
        if(block_open LESS count)
            list(GET lines ${block_open} fence)
            string(STRIP "${fence}" fence)
        endif()
        if(fence STREQUAL "```cpp")
            math(EXPR scan "${block_open} + 1")
            while(scan LESS count)
                list(GET lines ${scan} candidate)
                string(STRIP "${candidate}" candidate)
                if(candidate STREQUAL "```")
                    set(block_close ${scan})
                    break()
                endif()
                math(EXPR scan "${scan} + 1")
            endwhile()
        endif()
        if(block_close EQUAL -1)
            message(NOTICE "${where}: the marker must be followed at once by a ```cpp block closed by ```")
            math(EXPR problems "${problems} + 1")
            continue()  # the rest of the page is copied as it is
        endif()

        set(shown "")
        set(shown_separator "")
        math(EXPR scan "${block_open} + 1")
        while(scan LESS block_close)
            list(GET lines ${scan} shown_line)
            string(APPEND shown "${shown_separator}${shown_line}")
            set(shown_separator "\n")
            math(EXPR scan "${scan} + 1")
        endwhile()

        extract_snippet("${file}" "${name}" expected error)
        if(NOT error STREQUAL "")
            message(NOTICE "${where}: ${error}")
            math(EXPR problems "${problems} + 1")
            continue()  # the block is copied as it is
        endif()

        set(block "${shown}")
        if(NOT shown STREQUAL expected)
            if(FIX)
                message(STATUS "fixed ${where}")
                set(block "${expected}")
                set(page_changed TRUE)
            else()
                unescape("${expected}" expected_text)
                message(NOTICE "${where}: the doc block has drifted from the test. Expected:\n"
                               "```cpp\n${expected_text}\n```\n")
                math(EXPR problems "${problems} + 1")
            endif()
        endif()
        string(APPEND output "\n```cpp\n${block}\n```")
        math(EXPR index "${block_close} + 1")
    endwhile()

    if(page_name MATCHES "^docs/patterns/" AND NOT page_name STREQUAL "docs/patterns/README.md"
       AND snippets_on_page EQUAL 0)
        message(NOTICE "${page_name}: a pattern page must show at least one snippet from a test "
                       "(a `<!-- snippet: tests/core/<file>.cpp [name] -->` line and a ```cpp block)")
        math(EXPR problems "${problems} + 1")
    endif()

    if(page_changed)
        unescape("${output}" new_text)
        file(WRITE "${page}" "${new_text}")
        list(APPEND fixed_pages "${page_name}")
    endif()
endforeach()

if(problems GREATER 0)
    message(FATAL_ERROR "check_snippets: ${problems} problem(s) in the doc snippets, listed above. If a test "
                        "changed on purpose, update the docs with: "
                        "cmake -DSOURCE_DIR=${SOURCE_DIR} -DFIX=ON -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
if(fixed_pages)
    message(STATUS "check_snippets: rewrote ${fixed_pages}")
endif()
message(STATUS "check_snippets: ${checked} snippet(s) in ${SOURCE_DIR}/docs match their tests")
