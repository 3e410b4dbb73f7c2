;; A published Cranelift miscompile that crosscheck rediscovered: its default
;; run against Wasmtime 38.0.4 found it in under 6 minutes (docs/findings.md).
;; Cranelift's mid-end rewrites a signed division by a power of two into
;; shifts (opts/arithmetic.isle, `sdiv x (iconst_u ty
;; (u64_extract_power_of_two d))`); its guard read the divisor as unsigned,
;; so INT_MIN passed as 2^31. Wasmtime 36.0.x to 38.0.x answer -1, the spec
;; (and wasmi, Winch, Cranelift at opt level none) 1. Fixed by
;; bytecodealliance/wasmtime#11931, first in 39.0.0: `crosscheck bisect`
;; names 39.
;;
;;   crosscheck check corpus/cranelift-sdiv-int-min.wat --invoke f --args -2147483648
(module
  (func (export "f") (param $x i32) (result i32)
    (i32.div_s (local.get $x) (i32.const -2147483648))))
