# write_if_changed(FILE TEXT): write TEXT to FILE unless it already holds it, so that
# what depends on FILE is not rebuilt for nothing. Included by the generator scripts.
function(write_if_changed file text)
  set(old "")
  if(EXISTS "${file}")
    file(READ "${file}" old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE "${file}" "${text}")
  endif()
endfunction()
