# Finds nodejs/http-parser (Debian libhttp-parser-dev). Defines HttpParser::http_parser.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h)
find_library(HTTP_PARSER_LIBRARY http_parser)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(HttpParser DEFAULT_MSG HTTP_PARSER_INCLUDE_DIR HTTP_PARSER_LIBRARY)
if(HttpParser_FOUND AND NOT TARGET HttpParser::http_parser)
  add_library(HttpParser::http_parser UNKNOWN IMPORTED)
  set_target_properties(HttpParser::http_parser PROPERTIES
    IMPORTED_LOCATION ${HTTP_PARSER_LIBRARY} INTERFACE_INCLUDE_DIRECTORIES ${HTTP_PARSER_INCLUDE_DIR})
endif()
mark_as_advanced(HTTP_PARSER_INCLUDE_DIR HTTP_PARSER_LIBRARY)
