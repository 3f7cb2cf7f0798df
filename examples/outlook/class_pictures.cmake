# class_pictures: gradient ascent on the input of the trained CNN, one picture per class (docs/outlook.md).
adgraph_outlook_demo(class_pictures)
# Tiny settings on the weak fixture CNN (300 images, 1 epoch, a third of the test set right): its logits rise
# together, so the test climbs the log-softmax, without the pixel range and with light penalties; every class's
# logit must still rise by the margin and win the argmax on its picture.
add_test(NAME outlook_class_pictures
         COMMAND class_pictures --checkpoint ${OUTLOOK_CNN} --objective log-softmax --unclipped --steps 100 --lr 0.5
                 --l2 0.01 --tv 0.1 --margin 1 --scale 1 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_out)
# The self-check can fail: one tiny step leaves every picture the noise it started as, so no logit rises by the
# margin; the test passes only when the program says so.
add_test(NAME outlook_class_pictures_check_fails
         COMMAND class_pictures --checkpoint ${OUTLOOK_CNN} --steps 1 --lr 1e-6 --margin 1 --scale 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_fail)
set_tests_properties(outlook_class_pictures_check_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "class_pictures: FAIL: [A-Za-z/ -]+: the target logit's rise")
# ... and the classifier's parameters collect gradients once they require grad again (load_classifier froze them).
add_test(NAME outlook_class_pictures_unfrozen_fails
         COMMAND class_pictures --checkpoint ${OUTLOOK_CNN} --unfrozen --steps 2 --margin -1e9 --scale 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_unfrozen)
set_tests_properties(outlook_class_pictures_unfrozen_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "class_pictures: FAIL: the frozen classifier's parameters collected gradients")
set_tests_properties(outlook_class_pictures outlook_class_pictures_check_fails outlook_class_pictures_unfrozen_fails
                     PROPERTIES
                     FIXTURES_REQUIRED cnn_checkpoint LABELS "examples;outlook" SKIP_RETURN_CODE 77
                     ENVIRONMENT OPENBLAS_NUM_THREADS=1 TIMEOUT 120)
