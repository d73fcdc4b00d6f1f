#!/bin/sh
# Refreshes the embedded ICANN section of the Public Suffix List.
set -eu
cd "$(dirname "$0")"
curl -fsS https://publicsuffix.org/list/public_suffix_list.dat -o /tmp/psl.dat
sed -n '1,/===END ICANN DOMAINS===/p' /tmp/psl.dat > public_suffix_list_icann.dat
grep -m1 VERSION public_suffix_list_icann.dat
