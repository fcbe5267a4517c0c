include $(sort $(wildcard $(BR2_EXTERNAL_QBNET_PATH)/package/*/*.mk))
