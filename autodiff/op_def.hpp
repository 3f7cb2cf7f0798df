// No include guard: included at the top of every ops_*.def file, once per use of that file.
/// \file The macros of an op table (ops_*.def): one line per op says its public function and its op list entry.
///
/// An entry is one of
///   ADG_OP(name, Op, (params), body)  the public function `Tensor name(params, Site site = Site::here())`, whose
///                                     value is `body`, and the list entry of the struct Op;
///   ADG_FN(name, (params), body)      a public function only (a composition of other ops);
///   ADG_LISTED(Op)                    a list entry only (an op reached through operators or other functions);
///   ADG_UNARY(name, Op), ADG_BINARY(name, Op)  short for ADG_OP with (x) and apply(Op{}, x), resp. (a, b).
/// A default argument is written `double slope ADG_DEFAULT(0.01)`. The `///` lines above an entry document the
/// function. Each table is read three times: by ops.hpp (declarations), and by its op file twice, after
/// `#define ADG_OP_FUNCTIONS` (the definitions: the call site and the public name are recorded here, once for all
/// ops, then body is returned) and after `#define ADG_OP_LIST` (the entries of the file's op list).

#undef ADG_OP
#undef ADG_FN
#undef ADG_LISTED
#undef ADG_DEFAULT
#undef ADG_UNARY
#undef ADG_BINARY
#ifndef ADG_PARAMS
#define ADG_PARAMS(...) __VA_ARGS__
#endif

#if defined(ADG_OP_FUNCTIONS)
#define ADG_DEFAULT(...)
#define ADG_FN(name, params, ...)                   \
    Tensor name(ADG_PARAMS params, Site site) {     \
        const CallSite adg_call_site_(site, #name); \
        return __VA_ARGS__;                         \
    }
#define ADG_OP(name, Op, params, ...) ADG_FN(name, params, __VA_ARGS__)
#define ADG_LISTED(Op)
#undef ADG_OP_FUNCTIONS
#elif defined(ADG_OP_LIST)
#define ADG_DEFAULT(...)
#define ADG_FN(name, params, ...)
#define ADG_OP(name, Op, params, ...) op_info<Op>(),
#define ADG_LISTED(Op) op_info<Op>(),
#undef ADG_OP_LIST
#else
#define ADG_DEFAULT(...) = __VA_ARGS__
#define ADG_FN(name, params, ...) Tensor name(ADG_PARAMS params, Site site = Site::here());
#define ADG_OP(name, Op, params, ...) ADG_FN(name, params, __VA_ARGS__)
#define ADG_LISTED(Op)
#endif
#define ADG_UNARY(name, Op) ADG_OP(name, Op, (const Tensor& x), apply(Op{}, x))
#define ADG_BINARY(name, Op) ADG_OP(name, Op, (const Tensor& a, const Tensor& b), apply(Op{}, a, b))
