;; Crash found by crosscheck (sweep of seeds 0..20000 on the default matrix,
;; 6 seeds, first 2998), reduced with `wasm-tools shrink`: wasmi 2.0.0's
;; translator panics while compiling this module ("internal error: entered
;; unreachable code" in choose_store_op_vt, translator/func/mod.rs:2583,
;; translating one of the i64 stores). Wasmtime compiles and runs it. The
;; function needs no export: the panic happens at compile time.
;;
;;   crosscheck check corpus/wasmi-store-translate-panic.wat   -> verdict: CRASH
(module
  (type (;0;) (func (param i32 i64 v128 v128)))
  (memory (;0;) 7 16)
  (memory (;1;) 12 15)
  (global (;0;) (mut i32) i32.const 0)
  (func (;0;) (type 0) (param i32 i64 v128 v128)
    (local i64 v128)
    global.get 0
    if ;; label = @1
      unreachable
    else
    end
    i32.const 0
    i64.const 0
    i64.store32 1 offset=404235
    memory.size
    i64.const 0
    i64.store8 offset=418956
    i32.const 1
    i32.load16_s offset=32709
    local.tee 0
    local.get 0
    i32.store16 1 offset=22170
    memory.size
    i64.const 1
    i64.store8 offset=346593
    memory.size
    i64.const 0
    i64.store32 offset=489927 align=2
    memory.size
    local.get 4
    i64.store8 1 offset=86359
    i32.const 1
    i64.const 1
    i64.store 1 offset=760626 align=1
    local.get 0
    memory.size
    i32.store8 offset=117337
    memory.size
    i64.const 0
    i64.store16 1 offset=389249 align=1
    i32.const 0
    local.get 4
    i64.store8 offset=262398
  )
)
