#include <libxml/xmlversion.h>
// Puente uses none of libxml2's ICU converters; leaving ICU's headers out keeps them from clashing
// with the copy of ICU that Foundation ships.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
