# cmake -DDIR=<folder> -DMODE=clear|check -P reports.cmake
# clear: empty the sanitizer report folder before the tests run.
# check: after every test, fail when any sanitizer wrote a report, printing each one.
if(MODE STREQUAL "clear")
  file(REMOVE_RECURSE "${DIR}")
  file(MAKE_DIRECTORY "${DIR}")
  return()
endif()
file(GLOB reports "${DIR}/*")
if(NOT reports)
  message(STATUS "no sanitizer reports in ${DIR}")
  return()
endif()
list(LENGTH reports count)
foreach(report ${reports})
  file(READ "${report}" text)
  message("==== ${report}\n${text}")
endforeach()
message(FATAL_ERROR "${count} sanitizer report(s) in ${DIR}")
