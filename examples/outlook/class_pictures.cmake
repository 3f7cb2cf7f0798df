# class_pictures: gradient ascent on the input of the trained CNN, one picture per class (docs/outlook.md).
adgraph_outlook_demo(class_pictures)
# Tiny settings on the weak fixture CNN (300 images, 1 epoch, a third of the test set right): its logits rise
# together, so the test climbs the log-softmax, without the pixel range and with light penalties; every class's
# logit must still rise by the margin and win the argmax on its picture. Jitter is off: this classifier cannot
# tell coats, shirts and pullovers apart once the picture moves (the full-size run uses it). The periodic blur is
# on and must lift the pictures' mean correlation with their class's mean image to 0.22 (0.25 here; 0.19 without
# the blur, the next test); the fixture MLP judges the pictures (reported, no bar).
set(class_pictures_tiny --checkpoint ${OUTLOOK_CNN} --judge ${OUTLOOK_MLP} --limit 2000 --objective log-softmax
    --unclipped --steps 100 --lr 0.5 --l2 0.01 --tv 0.1 --jitter 0 --copies 1 --margin 1 --min-correlation 0.22
    --scale 1)
add_test(NAME outlook_class_pictures
         COMMAND class_pictures ${class_pictures_tiny} --blur-every 2
                 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_out)
# The likeness bar can fail: without the blur the same climb ends further from the class means.
add_test(NAME outlook_class_pictures_unblurred_fails
         COMMAND class_pictures ${class_pictures_tiny} --blur-every 0
                 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_unblurred)
set_tests_properties(outlook_class_pictures_unblurred_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "class_pictures: FAIL: mean correlation with the own class mean [0-9.]+ < --min-correlation")
# The self-check can fail: a few tiny steps (jittered and blurred, as by default) leave every picture the noise it
# started as, so no logit rises by the margin; the test passes only when the program says so.
add_test(NAME outlook_class_pictures_check_fails
         COMMAND class_pictures --checkpoint ${OUTLOOK_CNN} --limit 2000 --steps 5 --lr 1e-6 --margin 1 --scale 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_fail)
set_tests_properties(outlook_class_pictures_check_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "class_pictures: FAIL: [A-Za-z/ -]+: the target logit's rise")
# ... and the classifier's parameters collect gradients once they require grad again (load_classifier froze them).
add_test(NAME outlook_class_pictures_unfrozen_fails
         COMMAND class_pictures --checkpoint ${OUTLOOK_CNN} --limit 2000 --unfrozen --steps 2 --margin -1e9 --scale 1
                 --out ${CMAKE_CURRENT_BINARY_DIR}/class_pictures_unfrozen)
set_tests_properties(outlook_class_pictures_unfrozen_fails PROPERTIES PASS_REGULAR_EXPRESSION
                     "class_pictures: FAIL: the frozen classifier's parameters collected gradients")
set_tests_properties(outlook_class_pictures outlook_class_pictures_unblurred_fails PROPERTIES
                     FIXTURES_REQUIRED "cnn_checkpoint;outlook_mlp")
set_tests_properties(outlook_class_pictures_check_fails outlook_class_pictures_unfrozen_fails PROPERTIES
                     FIXTURES_REQUIRED cnn_checkpoint)
set_tests_properties(outlook_class_pictures outlook_class_pictures_unblurred_fails outlook_class_pictures_check_fails
                     outlook_class_pictures_unfrozen_fails PROPERTIES
                     LABELS "examples;outlook" SKIP_RETURN_CODE 77 ENVIRONMENT OPENBLAS_NUM_THREADS=1 TIMEOUT 120)
