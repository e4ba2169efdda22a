# SPDX-License-Identifier: MIT
# Extracts the C++ block that follows the "<!-- usage-example -->" marker in README.md and builds it as a test,
# so the example a user copies first always compiles and runs.
file(READ ${PROJECT_SOURCE_DIR}/README.md courier_readme)
string(FIND "${courier_readme}" "<!-- usage-example -->" courier_marker)
if(courier_marker EQUAL -1)
    message(FATAL_ERROR "README.md has no <!-- usage-example --> marker")
endif()
string(SUBSTRING "${courier_readme}" ${courier_marker} -1 courier_after_marker)
string(REGEX MATCH "```cpp\n(.*)" _ "${courier_after_marker}")
string(FIND "${CMAKE_MATCH_1}" "```" courier_block_end)
string(SUBSTRING "${CMAKE_MATCH_1}" 0 ${courier_block_end} courier_example)
set(courier_example_file ${CMAKE_CURRENT_BINARY_DIR}/readme_example.cpp)
file(CONFIGURE OUTPUT ${courier_example_file} CONTENT "${courier_example}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/README.md)

add_executable(courier_readme_example ${courier_example_file})
target_link_libraries(courier_readme_example PRIVATE courier::core courier_warnings)
add_test(NAME readme_example COMMAND courier_readme_example)
set_tests_properties(readme_example PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "applied 3 commands, gain 0.25")
