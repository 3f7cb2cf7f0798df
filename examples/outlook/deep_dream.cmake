# deep_dream: a layer of the trained CNN amplified on a test image at a few scales (docs/outlook.md).
adgraph_outlook_demo(deep_dream)
# Tiny settings on the weak fixture CNN: two octaves of 100 steps; the layer's objective must rise by the factor
# and the dream stay finite and within the sane pixel range.
add_test(NAME outlook_deep_dream
         COMMAND deep_dream --checkpoint ${OUTLOOK_CNN} --octaves 2 --steps 100 --lr 0.02 --min-factor 2 --scale 2
                 --out ${CMAKE_CURRENT_BINARY_DIR}/deep_dream_out)
# The checks can fail: one tiny step leaves the objective where it was (factor about 1) ...
add_test(NAME outlook_deep_dream_factor_fails
         COMMAND deep_dream --checkpoint ${OUTLOOK_CNN} --octaves 2 --steps 1 --lr 1e-6 --min-factor 1.5 --scale 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/deep_dream_fail)
set_tests_properties(outlook_deep_dream_factor_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "deep_dream: FAIL: the objective rose by a factor")
# ... and without the projection into [0, 1] the pixels with the largest gradients run out of the sane range.
add_test(NAME outlook_deep_dream_range_fails
         COMMAND deep_dream --checkpoint ${OUTLOOK_CNN} --octaves 2 --steps 50 --lr 0.05 --unclipped --scale 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/deep_dream_unclipped)
set_tests_properties(outlook_deep_dream_range_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "deep_dream: FAIL: the dream's pixels are finite, -?[0-9.]+ \\.\\. ")
set_tests_properties(outlook_deep_dream outlook_deep_dream_factor_fails outlook_deep_dream_range_fails PROPERTIES
                     FIXTURES_REQUIRED cnn_checkpoint LABELS "examples;outlook" SKIP_RETURN_CODE 77
                     ENVIRONMENT OPENBLAS_NUM_THREADS=1 TIMEOUT 120)
