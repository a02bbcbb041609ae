#!/usr/bin/env bash
# Loads the synthetic demo into a store: the three owning entities, then the four demo
# collections with the metadata a real entity's data carries (titles and descriptions in
# English and Arabic, keywords in both, owner, licence, attribution), all public so that
# anonymous readers see them. `make demo` and tests/test_readme_commands.py both run this.
#
#   bash data/load_demo.sh [STORE]      (default ./var/store; GIS_SERVICE names the command)
#
# Safe to run again: existing entities are kept, collections are replaced atomically.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
G=${GIS_SERVICE:-$ROOT/.venv/bin/gis-service}
STORE=${1:-./var/store}
ATTRIBUTION="Synthetic demo data made by data/make_demo_data.py; not official Sharjah data"

entity() {  # id, English name, Arabic name: created unless it exists
  local known
  known=$("$G" entities list --store "$STORE" | cut -f1)
  if ! grep -qx -- "$1" <<<"$known"; then
    "$G" entities add "$1" --name-en "$2" --name-ar "$3" --store "$STORE"
  fi
}

entity sha "Sharjah Health Authority" "هيئة الشارقة الصحية"
entity municipality "Sharjah City Municipality" "بلدية مدينة الشارقة"
entity tdra "Telecommunications and Digital Government Regulatory Authority" \
  "الهيئة العامة لتنظيم قطاع الاتصالات والحكومة الرقمية"

"$G" import "$ROOT"/data/facilities.geojson --collection facilities --temporal opened \
  --title "Public facilities (synthetic)" --title-ar "المرافق العامة (بيانات تجريبية)" \
  --description "Schools, hospitals, clinics, mosques, parks, police and fire stations and \
government offices in the emirate of Sharjah, with capacity and opening date. \
المدارس والمستشفيات والعيادات والمساجد والحدائق ومراكز الشرطة والدفاع المدني \
والدوائر الحكومية في إمارة الشارقة، مع السعة وتاريخ الافتتاح." \
  --keywords "facilities,health,education,schools,hospitals,clinics,mosques,parks,\
مرافق,صحة,تعليم,مدارس,مستشفيات,عيادات,مساجد,حدائق" \
  --owner sha --visibility public --license CC-BY-4.0 --attribution "$ATTRIBUTION" \
  --store "$STORE"

"$G" import "$ROOT"/data/districts.geojson --collection districts \
  --title "Districts (synthetic)" --title-ar "الأحياء (بيانات تجريبية)" \
  --description "District boundaries of Sharjah, Khor Fakkan, Kalba and Al Dhaid with \
population, area and district code, for planning. \
حدود الأحياء في الشارقة وخورفكان وكلباء والذيد مع عدد السكان والمساحة ورمز الحي، للتخطيط." \
  --keywords "districts,boundaries,population,planning,أحياء,حدود,سكان,تخطيط" \
  --owner municipality --visibility public --license CC-BY-4.0 --attribution "$ATTRIBUTION" \
  --store "$STORE"

"$G" import "$ROOT"/data/coverage.geojson --collection coverage --temporal updated \
  --title "Mobile network coverage (synthetic)" \
  --title-ar "تغطية شبكات الهاتف المتحرك (بيانات تجريبية)" \
  --description "4G and 5G coverage areas of the etisalat and du networks around Sharjah, \
with the typical signal strength and the site of each cell. \
مناطق تغطية الجيل الرابع والخامس لشبكتي اتصالات ودو حول الشارقة، مع قوة الإشارة وموقع كل محطة." \
  --keywords "coverage,telecom,mobile,4G,5G,signal,تغطية,اتصالات,هاتف متحرك,إشارة" \
  --owner tdra --visibility public --license CC-BY-4.0 --attribution "$ATTRIBUTION" \
  --store "$STORE"

"$G" import "$ROOT"/data/signal_strength.tif --collection signal_strength \
  --title "Network signal strength (synthetic)" \
  --title-ar "قوة إشارة شبكات الاتصال (بيانات تجريبية)" \
  --description "Modelled received signal strength in dBm of the 4G and 5G sites around \
Sharjah on a 0.001 degree grid (a raster; the sea is nodata). \
قوة الإشارة المستقبلة بوحدة ديسيبل ميلي واط حول الشارقة على شبكة بدقة 0.001 درجة." \
  --keywords "signal,dBm,raster,telecom,4G,5G,إشارة,اتصالات" \
  --owner tdra --visibility public --license CC-BY-4.0 --attribution "$ATTRIBUTION" \
  --store "$STORE"

# `make demo` loads only when this is missing (delete it to load again).
case "$STORE" in postgresql://* | postgres://*) ;; *) touch "$STORE/.demo-loaded" ;; esac
