;; Divergence found by crosscheck (sweep of the default matrix, first seen as
;; seed 15): wasmi 2.0.0 picks the wrong operand of a `select` whose first
;; operand is a constant and whose condition is a fusable `i32.eqz x` (or
;; `i32.ne x 0`) when x != 0. Wasmtime (all four Cranelift variants) follows
;; the spec.
;;
;;   crosscheck check corpus/wasmi-select-eqz.wat --invoke f --args 3,5
;;   spec and Wasmtime: 5 (eqz 3 = 0 selects the second operand)   wasmi: 1
(module
  (func (export "f") (param $x i32) (param $y i32) (result i32)
    (select (i32.const 1) (local.get $y) (i32.eqz (local.get $x)))))
