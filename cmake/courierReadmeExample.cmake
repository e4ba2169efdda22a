# SPDX-License-Identifier: MIT
# Extracts the C++ block that follows the "<!-- usage-example -->" marker in README.md and builds it as a test,
# so the example a user copies first always compiles and runs.
include(${PROJECT_SOURCE_DIR}/cmake/courierDocExample.cmake)
set(courier_example_file ${CMAKE_CURRENT_BINARY_DIR}/readme_example.cpp)
courier_extract_doc_example(${PROJECT_SOURCE_DIR}/README.md "<!-- usage-example -->" ${courier_example_file})

add_executable(courier_readme_example ${courier_example_file})
target_link_libraries(courier_readme_example PRIVATE courier::core courier_warnings)
add_test(NAME readme_example COMMAND courier_readme_example)
set_tests_properties(readme_example PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "applied 3 commands, gain 0.25")
